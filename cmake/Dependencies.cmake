# Debian packages: libopenblas-dev, doctest-dev, libsvm-dev, libstb-dev, libjpeg62-turbo-dev, zlib1g-dev.
# OpenBLAS: the pthread build exposes openblas_set_num_threads; prefer it over the reference BLAS.
# The suffixes also find a Debian package unpacked under a prefix (CMAKE_PREFIX_PATH), as on a
# machine where it cannot be installed.
find_path(GLER_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas NO_DEFAULT_PATH)
find_path(GLER_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-pthread x86_64-linux-gnu/openblas-pthread openblas)
find_library(GLER_OPENBLAS_LIB NAMES openblas PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread
             PATH_SUFFIXES openblas-pthread x86_64-linux-gnu/openblas-pthread)
if(NOT GLER_OPENBLAS_LIB OR NOT GLER_CBLAS_INCLUDE)
  message(FATAL_ERROR "OpenBLAS not found: apt-get install libopenblas-dev")
endif()
add_library(gler_openblas INTERFACE)
target_include_directories(gler_openblas SYSTEM INTERFACE ${GLER_CBLAS_INCLUDE})
target_link_libraries(gler_openblas INTERFACE ${GLER_OPENBLAS_LIB})

find_package(ZLIB REQUIRED)
find_package(JPEG REQUIRED)

find_path(GLER_SVM_INCLUDE svm.h PATH_SUFFIXES libsvm)
find_library(GLER_SVM_LIB NAMES svm)
if(NOT GLER_SVM_INCLUDE OR NOT GLER_SVM_LIB)
  message(FATAL_ERROR "libsvm not found: apt-get install libsvm-dev")
endif()
add_library(gler_libsvm INTERFACE)
target_include_directories(gler_libsvm SYSTEM INTERFACE ${GLER_SVM_INCLUDE})
target_link_libraries(gler_libsvm INTERFACE ${GLER_SVM_LIB})

find_path(GLER_STB_INCLUDE stb_image.h PATH_SUFFIXES stb)
if(NOT GLER_STB_INCLUDE)
  message(FATAL_ERROR "stb_image not found: apt-get install libstb-dev")
endif()
add_library(gler_stb INTERFACE)
target_include_directories(gler_stb SYSTEM INTERFACE ${GLER_STB_INCLUDE})

if(GLER_BUILD_TESTS)
  find_path(GLER_DOCTEST_INCLUDE doctest/doctest.h)
  if(NOT GLER_DOCTEST_INCLUDE)
    message(FATAL_ERROR "doctest not found: apt-get install doctest-dev")
  endif()
endif()
