# The installable block: libgca.so (parameters, circuit models, power accounting, the SystemC
# modules and the TLM host side, with the language model's numerics its closed loop runs), its
# headers, the shipped parameter files and the CMake package GcaTlm exporting GcaTlm::gca.
#   cmake --install build --prefix <prefix>
#   find_package(GcaTlm REQUIRED)  # with CMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(my_platform PRIVATE GcaTlm::gca)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

add_library(gca SHARED
  $<TARGET_OBJECTS:gca_spec> $<TARGET_OBJECTS:gca_power> $<TARGET_OBJECTS:gca_sc>
  $<TARGET_OBJECTS:gca_tlm> $<TARGET_OBJECTS:gca_lm> $<TARGET_OBJECTS:gca_tb_io>)
add_library(GcaTlm::gca ALIAS gca)
set_target_properties(gca PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_compile_features(gca PUBLIC cxx_std_17)
target_include_directories(gca PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/rtl_spec/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/power/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/systemc/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/tlm/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/lm/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(gca PUBLIC PkgConfig::SYSTEMC Threads::Threads nlohmann_json::nlohmann_json
                      PRIVATE ${CMAKE_DL_LIBS})

install(TARGETS gca EXPORT GcaTlmTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir rtl_spec/include power/include systemc/include tlm/include lm/include)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/gca DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
# Found by the library relative to itself: <prefix>/share/gca-tlm/params (spec::default_params_dir).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/rtl_spec/params/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gca-tlm/params)
install(FILES ${PROJECT_SOURCE_DIR}/rtl_spec/REGISTER_MAP.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gca-tlm)

set(GCA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/GcaTlm)
install(EXPORT GcaTlmTargets NAMESPACE GcaTlm:: DESTINATION ${GCA_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/GcaTlmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/GcaTlmConfig.cmake INSTALL_DESTINATION ${GCA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/GcaTlmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/GcaTlmConfig.cmake ${PROJECT_BINARY_DIR}/GcaTlmConfigVersion.cmake
        DESTINATION ${GCA_CMAKE_DIR})
