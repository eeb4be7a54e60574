# Initial cache (cmake -C) for `profiling/gpu_check.sh --rehearse` and tests/gpu_check: hides from CMake every library
# the GPU node lacks, so a CPU machine that has them configures the gpu-check profile the way the node will.
# Hidden: OpenBLAS, GoogleTest, libpng, libjpeg, nlohmann-json, DCMTK, Boost, oneDNN (and zlib, which the profile
# does not use either). How: find_package of each is disabled; find_* ignore the /usr prefix (its include/ folders
# and the package configs under lib/cmake) and the Debian folders that hold OpenBLAS's cblas.h. The C library's
# folders (/lib/<arch>, which Debian merges with /usr/lib/<arch>) must stay visible (OpenMP and CUDA look up pthread
# and rt there), so a library file alone may still be found there: without its header or package config the build
# cannot use it. SEG_ASSERT_HIDDEN makes the configure fail if any header or package config can still be found
# (cmake/SegAssertHidden.cmake); what CMake cannot hide (the compiler's own search of /usr/include, the linker's of
# /usr/lib) is checked after the build by gpu_check.sh: the compiler's dependency files name no header of these
# packages, and no binary links one of their libraries.
foreach(pkg GTest nlohmann_json PNG JPEG ZLIB DCMTK Boost BLAS OpenBLAS dnnl DNNL)
  set(CMAKE_DISABLE_FIND_PACKAGE_${pkg} ON CACHE BOOL "hidden for the gpu-check rehearsal")
endforeach()
set(CMAKE_IGNORE_PREFIX_PATH "/usr" CACHE STRING "hidden for the gpu-check rehearsal")
set(CMAKE_IGNORE_PATH "/usr/include;/usr/include/x86_64-linux-gnu;/usr/include/x86_64-linux-gnu/openblas-pthread;/usr/include/openblas"
    CACHE STRING "hidden for the gpu-check rehearsal")
set(SEG_ASSERT_HIDDEN "OpenBLAS;GoogleTest;libpng;libjpeg;nlohmann-json;DCMTK;Boost;oneDNN;zlib" CACHE STRING
    "configure fails if the header or package config of any of these can still be found")
