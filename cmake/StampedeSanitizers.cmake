# Sanitizer and fuzzing builds; at most one of them per build directory.
#
#   STAMPEDE_SANITIZE=ON  ASan + UBSan on everything (tools/test.sh: build-asan/)
#   STAMPEDE_TSAN=ON      ThreadSanitizer on everything (tools/test.sh: build-tsan/).
#                         Link it against an instrumented CAF:
#                         -DCAF_CORE_LIBRARY=$(bash tools/caf-tsan.sh build-tsan/caf);
#                         Debian's libcaf_core is not instrumented, and TSan then
#                         reports every message hand-off as a race (FUZZING.md).
#   STAMPEDE_FUZZ=ON      clang only: libFuzzer coverage + ASan + UBSan on
#                         everything, and the tests/fuzz targets (FUZZING.md).
# Without STAMPEDE_FUZZ the fuzz targets' inputs are still replayed by the
# unit tests (fuzz_replay, tests/fuzz/CMakeLists.txt).
option(STAMPEDE_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(STAMPEDE_TSAN "Build with ThreadSanitizer" OFF)
option(STAMPEDE_FUZZ "Build the libFuzzer targets of tests/fuzz (clang; ASan + UBSan)" OFF)

set(_stampede_modes 0)
foreach(_m STAMPEDE_SANITIZE STAMPEDE_TSAN STAMPEDE_FUZZ)
  if(${_m})
    math(EXPR _stampede_modes "${_stampede_modes} + 1")
  endif()
endforeach()
if(_stampede_modes GREATER 1)
  message(FATAL_ERROR "STAMPEDE_SANITIZE, STAMPEDE_TSAN and STAMPEDE_FUZZ exclude each other: "
                      "use one build directory for each")
endif()

set(_ubsan -fsanitize=undefined -fno-sanitize-recover=undefined)
if(STAMPEDE_SANITIZE)
  add_compile_options(-fsanitize=address ${_ubsan} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(STAMPEDE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  if(CAF_CORE_LIBRARY MATCHES "^/usr/lib/")
    message(WARNING "STAMPEDE_TSAN with Debian's uninstrumented ${CAF_CORE_LIBRARY}: TSan "
                    "reports CAF's message hand-offs as races. Configure with "
                    "-DCAF_CORE_LIBRARY=$(bash tools/caf-tsan.sh build-tsan/caf)")
  endif()
elseif(STAMPEDE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "STAMPEDE_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Coverage for libFuzzer in every object; only the fuzz targets link the
  # libFuzzer runtime (its main), tests/fuzz/CMakeLists.txt.
  add_compile_options(-fsanitize=fuzzer-no-link,address ${_ubsan} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
