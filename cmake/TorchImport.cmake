# Imports LibTorch from the PyPI torch wheel as the target lnb::torch.
#
# Two ways, chosen by LNB_TORCH_IMPORT (auto | package | wheel):
#   package  find_package(Torch) through <wheel>/share/cmake. The wheel is a CUDA
#            build, so Torch's CMake needs a CUDA toolkit at configure time; we pin
#            TORCH_CUDA_ARCH_LIST=9.0 (H100) because nvcc 13 rejects the "common"
#            arch list Torch falls back to on a GPU-less machine.
#   wheel    an imported INTERFACE target over the wheel's headers and .so files,
#            bypassing Torch's CUDA CMake logic: for CPU-only machines without a
#            toolkit. CUDA still works at run time (libtorch_cuda is linked with
#            --no-as-needed); only our own CUDA sources (LNB_CUDA) are unavailable.
#   auto     package when an nvcc is found, wheel otherwise.
#
# The wheel is located by LNB_TORCH_DIR (the torch package folder), else by asking
# LNB_PYTHON (default: python3 on PATH) where `torch` lives, without importing it.

set(LNB_TORCH_IMPORT "auto" CACHE STRING "How to import LibTorch: auto, package or wheel")
set_property(CACHE LNB_TORCH_IMPORT PROPERTY STRINGS auto package wheel)
set(LNB_TORCH_DIR "" CACHE PATH "The torch package folder of the wheel (site-packages/torch)")
set(LNB_PYTHON "" CACHE FILEPATH "Python interpreter whose site-packages hold torch")

if(NOT LNB_TORCH_DIR)
  if(NOT LNB_PYTHON)
    find_program(LNB_PYTHON_FOUND NAMES python3 python REQUIRED)
    set(LNB_PYTHON "${LNB_PYTHON_FOUND}")
  endif()
  execute_process(
    COMMAND "${LNB_PYTHON}" -c "import importlib.util,os;s=importlib.util.find_spec('torch');print(os.path.dirname(s.origin) if s else '')"
    OUTPUT_VARIABLE _lnb_torch_dir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR NOT _lnb_torch_dir)
    message(FATAL_ERROR "lnbench: no torch package found for ${LNB_PYTHON}.\n"
                        "  Run scripts/setup.sh (installs torch==2.11.0 into the lnbench cache),\n"
                        "  or pass -DLNB_TORCH_DIR=<site-packages>/torch.")
  endif()
  set(LNB_TORCH_DIR "${_lnb_torch_dir}" CACHE PATH "The torch package folder of the wheel (site-packages/torch)" FORCE)
endif()
if(NOT EXISTS "${LNB_TORCH_DIR}/lib/libtorch_cpu.so")
  message(FATAL_ERROR "lnbench: LNB_TORCH_DIR=${LNB_TORCH_DIR} holds no lib/libtorch_cpu.so")
endif()

set(_mode "${LNB_TORCH_IMPORT}")
if(_mode STREQUAL "auto")
  find_program(LNB_NVCC nvcc HINTS "$ENV{CUDA_HOME}/bin" "$ENV{CUDA_PATH}/bin" /usr/local/cuda/bin)
  if(LNB_NVCC)
    set(_mode "package")
  else()
    set(_mode "wheel")
  endif()
endif()
set(LNB_TORCH_IMPORT_USED "${_mode}" CACHE INTERNAL "")

if(_mode STREQUAL "package")
  if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "9.0")
  endif()
  if(LNB_NVCC AND NOT CUDAToolkit_ROOT)
    get_filename_component(_bin "${LNB_NVCC}" DIRECTORY)
    get_filename_component(CUDAToolkit_ROOT "${_bin}" DIRECTORY)
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${LNB_TORCH_DIR}/share/cmake")
  find_package(Torch REQUIRED CONFIG)
  add_library(lnb_torch INTERFACE)
  target_link_libraries(lnb_torch INTERFACE torch)
  set(LNB_TORCH_HAS_CUDA_CMAKE ON)
elseif(_mode STREQUAL "wheel")
  set(_lib "${LNB_TORCH_DIR}/lib")
  add_library(lnb_torch INTERFACE)
  target_include_directories(lnb_torch SYSTEM INTERFACE
    "${LNB_TORCH_DIR}/include" "${LNB_TORCH_DIR}/include/torch/csrc/api/include")
  target_compile_definitions(lnb_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
  target_link_libraries(lnb_torch INTERFACE
    "${_lib}/libtorch.so" "${_lib}/libtorch_cpu.so" "${_lib}/libc10.so")
  if(EXISTS "${_lib}/libtorch_cuda.so")
    # Without --no-as-needed the linker drops libtorch_cuda and CUDA silently
    # becomes unavailable at run time (pytorch#36437).
    target_link_libraries(lnb_torch INTERFACE
      "-Wl,--no-as-needed,${_lib}/libtorch_cuda.so,${_lib}/libc10_cuda.so,--as-needed")
  endif()
  target_link_options(lnb_torch INTERFACE "-Wl,-rpath,${_lib}" "-Wl,-rpath-link,${_lib}")
  set(LNB_TORCH_HAS_CUDA_CMAKE OFF)
else()
  message(FATAL_ERROR "LNB_TORCH_IMPORT must be auto, package or wheel (got '${LNB_TORCH_IMPORT}')")
endif()
# The wheel's libtorch.so / libtorch_cpu.so export copies of std::filesystem (and other
# libstdc++ internals). Listed before libstdc++ in a binary's NEEDED entries, they win
# the dynamic linker's global lookup, and our own std::filesystem calls land in them
# (std::filesystem::remove_all crashed that way). Naming libstdc++ first, ahead of
# every library, keeps the toolchain's own definitions in front.
target_link_options(lnb_torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
add_library(lnb::torch ALIAS lnb_torch)
message(STATUS "lnbench: LibTorch from ${LNB_TORCH_DIR} (import: ${_mode})")
