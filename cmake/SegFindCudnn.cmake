# seg_find_cudnn(): finds cuDNN for the CUDA backend, explicitly and visibly. The first place that has both cudnn.h
# (with cudnn_version.h) and the library wins, so header and library always come from one install:
#   1. CUDNN_ROOT (cache path; {include,lib,lib64} below it), when set;
#   2. the pip wheel inside a Python virtual environment, SEG_TORCH_VENV (cache path, default /opt/torch/.venv):
#      <venv>/lib/python3*/site-packages/nvidia/cudnn/{include,lib}. The wheel ships only libcudnn.so.9 (no unversioned
#      libcudnn.so), which is why the library is also searched by that file name;
#   3. the CUDA toolkit (CUDAToolkit_INCLUDE_DIRS, CUDAToolkit_LIBRARY_DIR);
#   4. the system (CMake's default search: /usr/include, /usr/lib/<arch>, ...).
# Key decision: the venv comes before the toolkit, so on a machine with both the engine links the very cuDNN that
# PyTorch uses there, and profiling/gpu_check.sh compares the two engines rather than two cuDNN versions.
# Sets in the caller's scope: SEG_CUDNN_FOUND, SEG_CUDNN_INCLUDE_DIR, SEG_CUDNN_LIBRARY, SEG_CUDNN_VERSION,
# SEG_CUDNN_FROM (which of the places above) and SEG_CUDNN_SEARCHED (what was looked at, for messages).
# Only cuDNN 9 or later is accepted (the convolution path uses cuDNN 9's status codes). With SEG_CUDNN=ON a miss is a
# configure error that lists every place searched.
set(SEG_TORCH_VENV "/opt/torch/.venv" CACHE PATH "Python virtual environment whose pip wheel nvidia-cudnn is searched for cuDNN")
set(CUDNN_ROOT "" CACHE PATH "cuDNN install to use (folder with include/ and lib/ or lib64/); searched first when set")

function(_seg_cudnn_try label include_hints lib_hints)
  if(SEG_CUDNN_FOUND)
    return()
  endif()
  set(searched "${SEG_CUDNN_SEARCHED}")
  if(NOT label STREQUAL "system" AND (NOT include_hints OR NOT lib_hints))
    list(APPEND searched "${label} (not searched: no folders known)")
  else()
    list(APPEND searched "${label}")
  endif()
  set(SEG_CUDNN_SEARCHED "${searched}" PARENT_SCOPE)
  if(label STREQUAL "system")
    find_path(_inc NAMES cudnn.h NO_CACHE)
    find_library(_lib NAMES cudnn libcudnn.so.9 NO_CACHE)
  else()
    if(NOT include_hints OR NOT lib_hints)
      return()
    endif()
    find_path(_inc NAMES cudnn.h PATHS ${include_hints} NO_DEFAULT_PATH NO_CACHE)
    find_library(_lib NAMES cudnn libcudnn.so.9 PATHS ${lib_hints} NO_DEFAULT_PATH NO_CACHE)
  endif()
  if(NOT _inc OR NOT _lib OR NOT EXISTS "${_inc}/cudnn_version.h")
    return()
  endif()
  string(REGEX REPLACE "/+$" "" _inc "${_inc}")
  file(STRINGS "${_inc}/cudnn_version.h" _v REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
  string(REGEX REPLACE ".*CUDNN_MAJOR +([0-9]+).*" "\\1" _major "${_v}")
  string(REGEX REPLACE ".*CUDNN_MINOR +([0-9]+).*" "\\1" _minor "${_v}")
  string(REGEX REPLACE ".*CUDNN_PATCHLEVEL +([0-9]+).*" "\\1" _patch "${_v}")
  if(NOT _major MATCHES "^[0-9]+$" OR _major LESS 9)
    message(STATUS "segengine: ignoring cuDNN '${_major}.${_minor}' in ${_inc} (${label}): cuDNN 9 or later is needed")
    return()
  endif()
  set(SEG_CUDNN_FOUND ON PARENT_SCOPE)
  set(SEG_CUDNN_INCLUDE_DIR "${_inc}" PARENT_SCOPE)
  set(SEG_CUDNN_LIBRARY "${_lib}" PARENT_SCOPE)
  set(SEG_CUDNN_VERSION "${_major}.${_minor}.${_patch}" PARENT_SCOPE)
  set(SEG_CUDNN_FROM "${label}" PARENT_SCOPE)
endfunction()

macro(seg_find_cudnn)
  set(SEG_CUDNN_FOUND OFF)
  set(SEG_CUDNN_SEARCHED "")
  set(SEG_CUDNN_FROM "")
  if(CUDNN_ROOT)
    _seg_cudnn_try("CUDNN_ROOT=${CUDNN_ROOT}" "${CUDNN_ROOT}/include" "${CUDNN_ROOT}/lib;${CUDNN_ROOT}/lib64")
  endif()
  file(GLOB _seg_wheels LIST_DIRECTORIES true "${SEG_TORCH_VENV}/lib/python3*/site-packages/nvidia/cudnn"
                                              "${SEG_TORCH_VENV}/lib64/python3*/site-packages/nvidia/cudnn")
  if(_seg_wheels)
    foreach(_w IN LISTS _seg_wheels)
      _seg_cudnn_try("venv wheel ${_w}" "${_w}/include" "${_w}/lib")
    endforeach()
  else()
    list(APPEND SEG_CUDNN_SEARCHED "venv wheel (none under ${SEG_TORCH_VENV}/lib/python3*/site-packages/nvidia/cudnn)")
  endif()
  _seg_cudnn_try("CUDA toolkit" "${CUDAToolkit_INCLUDE_DIRS}" "${CUDAToolkit_LIBRARY_DIR}")
  _seg_cudnn_try("system" "" "")
  unset(_seg_wheels)
  if(NOT SEG_CUDNN_FOUND AND SEG_CUDNN STREQUAL "ON")
    string(REPLACE ";" "\n    " _seg_where "${SEG_CUDNN_SEARCHED}")
    message(FATAL_ERROR "SEG_CUDNN=ON but cuDNN 9 (cudnn.h + libcudnn.so or libcudnn.so.9) was not found. Searched:\n    "
            "${_seg_where}\nSet CUDNN_ROOT=<folder with include/ and lib/> or SEG_TORCH_VENV=<venv with the "
            "nvidia-cudnn wheel>, or configure with SEG_CUDNN=AUTO or OFF to build the im2col + cuBLAS convolutions only.")
  endif()
endmacro()
