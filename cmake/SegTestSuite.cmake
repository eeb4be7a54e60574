# Test suites, used by every tests/ folder (and by the gpu-check profile's tests/opcheck).
# seg_add_suite(NAME [LIBS lib...] [DEFINES def...] [TIMEOUT seconds] [ENVIRONMENT VAR=value...]): the suite of the
# calling folder: one executable NAME from every *.cpp in the folder (a new test file needs no CMake edit), linked with
# LIBS, segtest and GTest::gtest_main, each test registered with ctest (TIMEOUT: a per-test limit, for the slow app
# runs; ENVIRONMENT: variables every test of the suite runs with, default OMP_WAIT_POLICY=PASSIVE: with OpenMP's
# spinning barriers, two suites run side by side by `ctest -j2` (and an app a test starts) on a 2-core machine ran up to
# 60x slower).
function(seg_add_suite name)
  cmake_parse_arguments(S "" "TIMEOUT" "LIBS;DEFINES;ENVIRONMENT" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${S_LIBS} segtest GTest::gtest_main)
  if(S_DEFINES)
    target_compile_definitions(${name} PRIVATE ${S_DEFINES})
  endif()
  set(props)
  if(S_TIMEOUT)
    list(APPEND props TIMEOUT ${S_TIMEOUT})
  endif()
  if(NOT S_ENVIRONMENT)
    set(S_ENVIRONMENT OMP_WAIT_POLICY=PASSIVE)
  endif()
  list(APPEND props ENVIRONMENT "${S_ENVIRONMENT}")
  if(props)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
