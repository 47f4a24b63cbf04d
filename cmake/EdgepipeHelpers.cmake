# Helpers shared by every layer's CMakeLists.txt.

set(EDGEPIPE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(EDGEPIPE_WERROR)
  list(APPEND EDGEPIPE_WARNINGS -Werror)
endif()

# Applies edgepipe's warning set and include root to a target.
function(edgepipe_target_defaults target)
  target_compile_options(${target} PRIVATE ${EDGEPIPE_WARNINGS})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/src>
    $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/src>
    $<INSTALL_INTERFACE:include>)
endfunction()

# edgepipe_layer(<name> DEPS <targets...>)
# Builds library edgepipe_<name> from every *.cc in the current folder except
# *_test.cc and *_fuzz.cc, and registers each *_test.cc as a GoogleTest binary
# linked against it.
function(edgepipe_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;EXTRA_SRCS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc")
  file(GLOB fuzzers CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc")
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  if(fuzzers)
    list(REMOVE_ITEM srcs ${fuzzers})
  endif()
  add_library(edgepipe_${name} STATIC ${srcs} ${ARG_EXTRA_SRCS})
  add_library(edgepipe::${name} ALIAS edgepipe_${name})
  # Installed as edgepipe::<name> too (root CMakeLists.txt, install rules).
  set_target_properties(edgepipe_${name} PROPERTIES EXPORT_NAME ${name})
  edgepipe_target_defaults(edgepipe_${name})
  target_link_libraries(edgepipe_${name} PUBLIC ${ARG_DEPS})
  if(EDGEPIPE_BUILD_TESTS)
    foreach(test_src ${tests})
      get_filename_component(test_name ${test_src} NAME_WE)
      edgepipe_test(${name}_${test_name} SRCS ${test_src} DEPS edgepipe_${name} ${ARG_TEST_DEPS})
    endforeach()
  endif()
endfunction()

# edgepipe_test(<name> SRCS <files...> DEPS <targets...> [LABELS <label>])
# LABELS sets the ctest label of every discovered test (one label, e.g. slow).
function(edgepipe_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  edgepipe_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    EDGEPIPE_SHARED_DIR="${EDGEPIPE_SHARED_DIR}"
    EDGEPIPE_DATA_DIR="${EDGEPIPE_DATA_DIR}"
    EDGEPIPE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  set(props TIMEOUT 900)
  if(ARG_LABELS)
    list(APPEND props LABELS ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
