# Helpers shared by every lnbench target: warnings, the LibTorch PCH, test binaries.

function(lnb_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${LNB_WERROR}>>:-Werror>)
endfunction()

# The PCH: <torch/torch.h> and friends compiled once (≈16 s per TU without it).
function(lnb_setup_pch)
  if(NOT LNB_PCH)
    return()
  endif()
  # Two copies: libraries are compiled -fPIC (they also go into the plugin .so),
  # executables -fPIE, and GCC refuses a PCH built with the other setting.
  foreach(kind pic exe)
    add_library(lnb_torch_pch_${kind} OBJECT "${PROJECT_SOURCE_DIR}/cmake/pch_stub.cpp")
    lnb_target_defaults(lnb_torch_pch_${kind})
    target_link_libraries(lnb_torch_pch_${kind} PUBLIC lnb::torch)
    target_precompile_headers(lnb_torch_pch_${kind} PRIVATE
      "$<$<COMPILE_LANGUAGE:CXX>:${PROJECT_SOURCE_DIR}/cmake/torch_pch.h>")
  endforeach()
  set_target_properties(lnb_torch_pch_exe PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(lnb_torch_pch_exe PRIVATE -fPIE)
endfunction()

# Use the shared PCH in a target that links LibTorch.
function(lnb_use_torch_pch target)
  if(LNB_PCH)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_precompile_headers(${target} REUSE_FROM lnb_torch_pch_exe)
    else()
      target_precompile_headers(${target} REUSE_FROM lnb_torch_pch_pic)
    endif()
  endif()
endfunction()

# One layer library: lnb_add_layer(name SOURCES ... [DEPS ...] [TORCH]).
function(lnb_add_layer name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  add_library(lnb::${name} ALIAS ${name})
  lnb_layer(${name})
  lnb_target_defaults(${name})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  if(A_TORCH)
    lnb_use_torch_pch(${name})
  endif()
endfunction()
