# Layering rule of DESIGN.md, enforced at configure time.
#
#   common    std + OpenSSL libcrypto (hashing)      no LibTorch; usable by every layer
#   metrics   std + nlohmann_json                  no LibTorch
#   tasks     metrics                              no LibTorch
#   reports   std + nlohmann_json                  no LibTorch
#   model     LibTorch, sentencepiece, OpenCV, nlohmann_json
#   training  model
#   harness   all of the above
#
# lnb_layer(NAME) declares a layer library; lnb_check_layering() walks every
# layer's link closure (through helper targets too) and stops the configure with
# FATAL_ERROR when a layer reaches a layer it may not use, or when a torch-free
# layer reaches LibTorch. Used by the real build and by tests/cmake/layering.

set(LNB_LAYER_ALLOWED_common   "")
set(LNB_LAYER_ALLOWED_metrics  "common")
set(LNB_LAYER_ALLOWED_tasks    "common;metrics")
set(LNB_LAYER_ALLOWED_reports  "common")
set(LNB_LAYER_ALLOWED_model    "common")
set(LNB_LAYER_ALLOWED_training "common;model")
set(LNB_LAYER_ALLOWED_harness  "common;metrics;tasks;reports;model;training")
set(LNB_LAYERS_WITHOUT_TORCH   "common;metrics;tasks;reports")
# Anything whose name is in this list counts as LibTorch.
set(LNB_TORCH_TARGET_NAMES "torch;torch_library;torch_cpu;torch_cuda;c10;c10_cuda;lnb_torch;lnb::torch;torchwheel")

set_property(GLOBAL PROPERTY LNB_LAYER_TARGETS "")

# Declares target NAME as (part of) layer NAME.
function(lnb_layer name)
  lnb_layer_alias(${name} ${name})
endfunction()

# Declares TARGET as part of LAYER (e.g. the harness's LibTorch plugin).
function(lnb_layer_alias target layer)
  if(NOT DEFINED LNB_LAYER_ALLOWED_${layer})
    message(FATAL_ERROR "lnb_layer(${layer}): '${layer}' is not a layer of DESIGN.md")
  endif()
  set_property(GLOBAL APPEND PROPERTY LNB_LAYER_TARGETS ${target})
  set_property(GLOBAL PROPERTY LNB_LAYER_OF_${target} ${layer})
endfunction()

# Collect the link closure of TARGET (names as written in link properties).
function(_lnb_link_closure target out_var)
  set(seen "")
  set(todo "${target}")
  while(todo)
    list(POP_FRONT todo cur)
    if(cur IN_LIST seen)
      continue()
    endif()
    list(APPEND seen "${cur}")
    if(NOT TARGET "${cur}")
      continue()
    endif()
    get_target_property(aliased "${cur}" ALIASED_TARGET)
    if(aliased)
      list(APPEND todo "${aliased}")
    endif()
    set(links "")
    get_target_property(type "${cur}" TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY" OR CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
      get_target_property(direct "${cur}" LINK_LIBRARIES)
      if(direct)
        list(APPEND links ${direct})
      endif()
    endif()
    get_target_property(iface "${cur}" INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND links ${iface})
    endif()
    foreach(l IN LISTS links)
      # Strip generator expressions that merely wrap a name: $<LINK_ONLY:x>, $<BUILD_INTERFACE:x>.
      string(REGEX REPLACE "^\\$<[A-Z_]+:(.*)>$" "\\1" l "${l}")
      list(APPEND todo "${l}")
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen "${target}")
  set(${out_var} "${seen}" PARENT_SCOPE)
endfunction()

function(lnb_check_layering)
  get_property(targets GLOBAL PROPERTY LNB_LAYER_TARGETS)
  set(errors "")
  foreach(target IN LISTS targets)
    get_property(layer GLOBAL PROPERTY LNB_LAYER_OF_${target})
    _lnb_link_closure(${target} closure)
    foreach(dep IN LISTS closure)
      string(REGEX REPLACE "^lnb::" "" dep_name "${dep}")
      get_property(dep_layer GLOBAL PROPERTY LNB_LAYER_OF_${dep_name})
      if(dep_layer AND NOT dep_layer STREQUAL layer AND NOT dep_layer IN_LIST LNB_LAYER_ALLOWED_${layer})
        string(APPEND errors "\n  layer '${layer}' (${target}) links layer '${dep_layer}' (allowed: ${LNB_LAYER_ALLOWED_${layer}})")
      endif()
      if(layer IN_LIST LNB_LAYERS_WITHOUT_TORCH AND dep IN_LIST LNB_TORCH_TARGET_NAMES)
        string(APPEND errors "\n  layer '${layer}' links LibTorch ('${dep}'); metrics/, tasks/ and reports/ must stay torch-free")
      endif()
      if(layer IN_LIST LNB_LAYERS_WITHOUT_TORCH AND dep MATCHES "libtorch[^/]*\\.so|libc10[^/]*\\.so")
        string(APPEND errors "\n  layer '${layer}' links a LibTorch library file '${dep}'")
      endif()
    endforeach()
  endforeach()
  if(errors)
    message(FATAL_ERROR "lnbench layering rule broken (see DESIGN.md):${errors}")
  endif()
endfunction()
