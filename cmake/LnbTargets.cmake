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
  add_library(lnb_torch_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/pch_stub.cpp")
  lnb_target_defaults(lnb_torch_pch)
  target_link_libraries(lnb_torch_pch PUBLIC lnb::torch)
  target_precompile_headers(lnb_torch_pch PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:${PROJECT_SOURCE_DIR}/cmake/torch_pch.h>")
endfunction()

# Use the shared PCH in a target that links LibTorch.
function(lnb_use_torch_pch target)
  if(LNB_PCH)
    target_precompile_headers(${target} REUSE_FROM lnb_torch_pch)
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
