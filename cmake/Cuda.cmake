# Decides GLER_WITH_CUDA from GLER_CUDA (AUTO|ON|OFF) and finds cuBLAS and cuDNN.
# cuDNN may live in the CUDA toolkit (Debian/NVIDIA packages) or in a Python venv's
# nvidia/cudnn wheel (the GPU machines): both are searched, plus CUDNN_ROOT if given.
set(GLER_WITH_CUDA OFF)
if(NOT GLER_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
  endif()

  set(_gler_cudnn_hints $ENV{CUDNN_ROOT} ${CUDNN_ROOT})
  if(CUDAToolkit_FOUND)
    list(APPEND _gler_cudnn_hints ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR})
  endif()
  # pip's nvidia-cudnn-cu* wheel: <site-packages>/nvidia/cudnn/{include,lib}
  find_program(_gler_python NAMES python3 python)
  if(_gler_python)
    execute_process(COMMAND ${_gler_python} -c "import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__) if nvidia.cudnn.__file__ else list(nvidia.cudnn.__path__)[0])"
                    OUTPUT_VARIABLE _gler_pip_cudnn OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_gler_pip_cudnn)
      list(APPEND _gler_cudnn_hints ${_gler_pip_cudnn})
    endif()
  endif()
  find_path(GLER_CUDNN_INCLUDE cudnn.h HINTS ${_gler_cudnn_hints} PATH_SUFFIXES include targets/x86_64-linux/include)
  find_library(GLER_CUDNN_LIB NAMES cudnn libcudnn.so.9 HINTS ${_gler_cudnn_hints} PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)

  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND AND GLER_CUDNN_INCLUDE AND GLER_CUDNN_LIB)
    set(GLER_WITH_CUDA ON)
  elseif(GLER_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GLER_CUDA=ON but nvcc (${CMAKE_CUDA_COMPILER}), the CUDA toolkit (${CUDAToolkit_FOUND}) "
                        "or cuDNN (${GLER_CUDNN_INCLUDE}, ${GLER_CUDNN_LIB}) was not found; set CUDNN_ROOT")
  endif()
endif()

if(GLER_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # H100/H200 by default; scripts/gpu_check.sh passes the card's own architecture.
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  enable_language(CUDA)
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    # CMake < 3.26 does not know nvcc's C++20 flag (nvcc has had it since CUDA 12.0).
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  add_library(gler_cudnn INTERFACE)
  target_include_directories(gler_cudnn SYSTEM INTERFACE ${GLER_CUDNN_INCLUDE})
  target_link_libraries(gler_cudnn INTERFACE ${GLER_CUDNN_LIB})
  message(STATUS "gler: cuDNN ${GLER_CUDNN_LIB}")
endif()
