# Install and export rules: `cmake --install <build> --prefix P` installs
#   P/include/edgepipe/<layer>/*.h       public headers (and generated ones:
#                                        example.pb.h, eval_config.pb.h,
#                                        tflite_schema_generated.h)
#   P/lib/libedgepipe_<layer>.a          the static libraries (PIC)
#   P/lib/cmake/edgepipe/                edgepipeConfig.cmake + targets
#   P/bin/edgepipe                       the command line tool
# so that an out-of-tree project (a Trainer module) does
#   find_package(edgepipe REQUIRED)
#   target_link_libraries(my_module PRIVATE edgepipe::edgepipe)
# Included by the root CMakeLists.txt after the layers' subdirectories.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EDGEPIPE_LAYERS core data nn model lite eval pipeline components)

# dlopen for pipeline/module.h (part of libc since glibc 2.34; libdl before).
target_link_libraries(edgepipe_pipeline PUBLIC ${CMAKE_DL_LIBS})
# Where the Trainer looks for the installed edgepipe when it builds a module
# source file (after $EDGEPIPE_PREFIX).
target_compile_definitions(edgepipe_components PRIVATE
  EDGEPIPE_INSTALL_PREFIX="${CMAKE_INSTALL_PREFIX}")

# Generated code's include roots, once installed.
foreach(gen edgepipe_data_proto edgepipe_eval_proto edgepipe_lite_schema)
  get_target_property(_type ${gen} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${gen} SYSTEM INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  else()
    target_include_directories(${gen} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endif()
endforeach()
set_target_properties(edgepipe_data_proto PROPERTIES EXPORT_NAME data_proto)
set_target_properties(edgepipe_eval_proto PROPERTIES EXPORT_NAME eval_proto)
set_target_properties(edgepipe_lite_schema PROPERTIES EXPORT_NAME lite_schema)

# edgepipe::edgepipe: every layer, in link order (a layer before the layers it uses).
add_library(edgepipe_all INTERFACE)
set_target_properties(edgepipe_all PROPERTIES EXPORT_NAME edgepipe)
foreach(layer components pipeline eval lite model nn data core)
  target_link_libraries(edgepipe_all INTERFACE edgepipe_${layer})
endforeach()
add_library(edgepipe::edgepipe ALIAS edgepipe_all)

# Programs that load modules (edgepipe run, the Trainer) export their own
# copy of edgepipe, so a module's references bind to it and process-wide
# registrations (protobuf descriptors) happen once (pipeline/module.h).
set_target_properties(edgepipe PROPERTIES ENABLE_EXPORTS ON)

set(_targets edgepipe_all edgepipe_data_proto edgepipe_eval_proto edgepipe_components_proto
  edgepipe_lite_schema)
foreach(layer ${EDGEPIPE_LAYERS})
  list(APPEND _targets edgepipe_${layer})
endforeach()
install(TARGETS ${_targets} EXPORT edgepipeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS edgepipe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers keep their include paths: edgepipe/<layer>/x.h. Test-only helpers
# (testing/, *_testing.h, test_*.h) are left out.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/src/edgepipe
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h"
  PATTERN "testing" EXCLUDE
  PATTERN "testdata" EXCLUDE
  PATTERN "*_testing.h" EXCLUDE
  PATTERN "test_*.h" EXCLUDE)
install(FILES ${CMAKE_BINARY_DIR}/src/edgepipe/data/example.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepipe/data)
install(FILES ${CMAKE_BINARY_DIR}/src/edgepipe/eval/eval_config.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepipe/eval)
install(FILES ${CMAKE_BINARY_DIR}/gen/edgepipe/lite/tflite_schema_generated.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepipe/lite)

set(EDGEPIPE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgepipe)
install(EXPORT edgepipeTargets NAMESPACE edgepipe:: DESTINATION ${EDGEPIPE_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/edgepipeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/edgepipeConfig.cmake INSTALL_DESTINATION ${EDGEPIPE_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/edgepipeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ExactVersion)
install(FILES ${CMAKE_BINARY_DIR}/edgepipeConfig.cmake ${CMAKE_BINARY_DIR}/edgepipeConfigVersion.cmake
  DESTINATION ${EDGEPIPE_CMAKE_DIR})
