# Shared libraries loaded by the module and Trainer tests, built with the
# test programs (the install test builds tests/module_fixture/ out of tree
# instead). Output: <build>/test_modules/<name>.so
set(EDGEPIPE_TEST_MODULE_DIR "${CMAKE_BINARY_DIR}/test_modules")

function(edgepipe_test_module name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;DEFINES" ${ARGN})
  add_library(${name} MODULE ${ARG_SRCS})
  edgepipe_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_definitions(${name} PRIVATE ${ARG_DEFINES})
  set_target_properties(${name} PROPERTIES PREFIX "" SUFFIX ".so"
    LIBRARY_OUTPUT_DIRECTORY "${EDGEPIPE_TEST_MODULE_DIR}")
endfunction()

# pipeline/module_test: plain C entry points, no edgepipe code.
set(_src "${CMAKE_SOURCE_DIR}/src/edgepipe/pipeline/testdata/test_module.cc")
edgepipe_test_module(test_module_good SRCS ${_src} DEFINES EDGEPIPE_TEST_ABI_VERSION=1)
edgepipe_test_module(test_module_wrong_abi SRCS ${_src} DEFINES EDGEPIPE_TEST_ABI_VERSION=99)
edgepipe_test_module(test_module_no_abi SRCS ${_src})
set(_pipeline_modules test_module_good test_module_wrong_abi test_module_no_abi)

# components/trainer_test: run_fn variants and the guide's two MNIST modules.
set(_src "${CMAKE_SOURCE_DIR}/src/edgepipe/components/testdata/run_fn_module.cc")
set(_trainer_modules)
foreach(variant echo error throw empty wrong_abi)
  string(TOUPPER ${variant} _upper)
  edgepipe_test_module(run_fn_${variant} SRCS ${_src} DEPS edgepipe::edgepipe
                       DEFINES RUN_FN_${_upper})
  list(APPEND _trainer_modules run_fn_${variant})
endforeach()
foreach(module mnist_module mnist_lite_module)
  edgepipe_test_module(${module} SRCS "${CMAKE_SOURCE_DIR}/examples/mnist/${module}.cc"
                       DEPS edgepipe::edgepipe)
  list(APPEND _trainer_modules ${module})
endforeach()

foreach(test_target pipeline_module_test components_trainer_test)
  if(TARGET ${test_target})
    target_compile_definitions(${test_target} PRIVATE
      EDGEPIPE_TEST_MODULE_DIR="${EDGEPIPE_TEST_MODULE_DIR}")
    # Modules bind to the test program's copy of edgepipe (pipeline/module.h).
    set_target_properties(${test_target} PROPERTIES ENABLE_EXPORTS ON)
  endif()
endforeach()
if(TARGET pipeline_module_test)
  add_dependencies(pipeline_module_test ${_pipeline_modules})
endif()
if(TARGET components_trainer_test)
  add_dependencies(components_trainer_test ${_pipeline_modules} ${_trainer_modules})
endif()

# components/transform_test: preprocessing_fn modules (EDGEPIPE_PREPROCESSING_FN).
set(_src "${CMAKE_SOURCE_DIR}/src/edgepipe/components/testdata/preprocessing_fn_module.cc")
set(_transform_modules)
foreach(variant good throw)
  string(TOUPPER ${variant} _upper)
  edgepipe_test_module(preprocessing_fn_${variant} SRCS ${_src} DEPS edgepipe::edgepipe
                       DEFINES PREPROCESSING_FN_${_upper})
  list(APPEND _transform_modules preprocessing_fn_${variant})
endforeach()
if(TARGET components_transform_test)
  target_compile_definitions(components_transform_test PRIVATE
    EDGEPIPE_TEST_MODULE_DIR="${EDGEPIPE_TEST_MODULE_DIR}")
  set_target_properties(components_transform_test PROPERTIES ENABLE_EXPORTS ON)
  add_dependencies(components_transform_test ${_transform_modules} test_module_good)
endif()
