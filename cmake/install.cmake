# Installs ruvicorn_core as a CMake package: public headers, the static library, the static
# parser libraries it links privately (an archive does not carry its own dependencies, so they are
# installed and exported beside it), and the package files, so that another project can write
#   find_package(ruvicorn_core CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE ruvicorn::core)
# See docs/embedding.md.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# A wheel (scikit-build-core sets SKBUILD) must hold only the extension, never headers or archives;
# it does carry the notices of the parsers compiled into it, as its dist-info licence files.
if(SKBUILD)
  if(NOT SKBUILD_METADATA_DIR)
    message(FATAL_ERROR "ruvicorn: scikit-build-core did not set SKBUILD_METADATA_DIR")
  endif()
  install(FILES ${RUVICORN_THIRD_PARTY_LICENSES} DESTINATION "${SKBUILD_METADATA_DIR}/licenses")
  set(_ruvicorn_install_default OFF)
else()
  set(_ruvicorn_install_default ON)
endif()
option(RUVICORN_INSTALL "Install ruvicorn_core (headers, static libraries, CMake package)"
       ${_ruvicorn_install_default})
if(NOT RUVICORN_INSTALL)
  return()
endif()

set(_ruvicorn_targets ruvicorn_core ruvicorn_llhttp ruvicorn_pico)
set_target_properties(ruvicorn_core PROPERTIES EXPORT_NAME core)
set_target_properties(ruvicorn_llhttp PROPERTIES EXPORT_NAME llhttp)
set_target_properties(ruvicorn_pico PROPERTIES EXPORT_NAME pico)
if(TARGET ruvicorn_pico_sse42)  # x86: picohttpparser's SSE4.2 copy, chosen at run time
  list(APPEND _ruvicorn_targets ruvicorn_pico_sse42)
  set_target_properties(ruvicorn_pico_sse42 PROPERTIES EXPORT_NAME pico_sse42)
endif()

# GCC's LTO objects are slim by default: GIMPLE only, readable by the same GCC version alone. Fat
# objects keep LTO for in-tree links (the extension) and add machine code for any other consumer.
if(CMAKE_INTERPROCEDURAL_OPTIMIZATION AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  foreach(_t IN LISTS _ruvicorn_targets)
    target_compile_options(${_t} PRIVATE -ffat-lto-objects)
  endforeach()
endif()

set(RUVICORN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ruvicorn_core" CACHE STRING
    "Where ruvicorn_coreConfig.cmake is installed, relative to the prefix")

install(TARGETS ${_ruvicorn_targets}
  EXPORT ruvicorn_coreTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# "include" matches the core's $<INSTALL_INTERFACE:include> (src/cpp/core/CMakeLists.txt).
install(FILES ${RUVICORN_THIRD_PARTY_LICENSES} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ruvicorn_core)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/cpp/core/include/ruvicorn
  DESTINATION include
  FILES_MATCHING PATTERN "*.hpp")
install(EXPORT ruvicorn_coreTargets
  NAMESPACE ruvicorn::
  DESTINATION ${RUVICORN_INSTALL_CMAKEDIR})

# Imported targets the core links (privately, but an archive's link line needs them) become
# find_dependency() calls in the package config.
get_target_property(_ruvicorn_links ruvicorn_core LINK_LIBRARIES)
set(_ruvicorn_deps "")
foreach(_lib IN LISTS _ruvicorn_links)
  if(_lib MATCHES "^(ZLIB|Threads)::")
    list(APPEND _ruvicorn_deps ${CMAKE_MATCH_1})
  endif()
endforeach()
list(REMOVE_DUPLICATES _ruvicorn_deps)
set(RUVICORN_CORE_FIND_DEPENDENCIES "")
foreach(_dep IN LISTS _ruvicorn_deps)
  string(APPEND RUVICORN_CORE_FIND_DEPENDENCIES "find_dependency(${_dep})\n")
endforeach()

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/ruvicorn_coreConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ruvicorn_coreConfig.cmake
  INSTALL_DESTINATION ${RUVICORN_INSTALL_CMAKEDIR})
# 0.x: a minor release may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/ruvicorn_coreConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/ruvicorn_coreConfig.cmake
  ${PROJECT_BINARY_DIR}/ruvicorn_coreConfigVersion.cmake
  DESTINATION ${RUVICORN_INSTALL_CMAKEDIR})
