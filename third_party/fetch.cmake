# Obtains a pinned sdist (see pins.cmake) and extracts it under the build tree.
#
# Where the archive comes from, in order:
#   1. RUVICORN_THIRD_PARTY_DIR (CMake variable or environment variable): a local directory holding
#      the sdist archives (e.g. llhttp-9.3.0.0.tar.gz) for offline builds; nothing is downloaded.
#   2. `python -m pip download --no-deps --no-binary :all: NAME==VERSION` from the configured index.
# Either way the archive's SHA-256 must equal the pin, or configuration stops.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/pins.cmake)

if(NOT DEFINED RUVICORN_THIRD_PARTY_DIR AND DEFINED ENV{RUVICORN_THIRD_PARTY_DIR})
  set(RUVICORN_THIRD_PARTY_DIR "$ENV{RUVICORN_THIRD_PARTY_DIR}")
endif()
set(RUVICORN_THIRD_PARTY_DIR "${RUVICORN_THIRD_PARTY_DIR}" CACHE PATH
    "Directory with the pinned sdists of llhttp and picohttpparser (offline builds)")

function(_ruvicorn_find_archive dir package version out)
  string(REPLACE "-" "_" alt "${package}")
  foreach(stem "${package}-${version}" "${alt}-${version}")
    foreach(ext ".tar.gz" ".zip")
      if(EXISTS "${dir}/${stem}${ext}")
        set(${out} "${dir}/${stem}${ext}" PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# ruvicorn_fetch_sdist(<PREFIX> <out_var>): sets <out_var> to the extracted source subdirectory
# and <out_var>_ROOT to the sdist's top directory (where its LICENSE is).
function(ruvicorn_fetch_sdist prefix out_var)
  set(package "${RUVICORN_${prefix}_PACKAGE}")
  set(version "${RUVICORN_${prefix}_VERSION}")
  set(sha256 "${RUVICORN_${prefix}_SHA256}")
  set(subdir "${RUVICORN_${prefix}_SUBDIR}")
  set(download_dir "${CMAKE_BINARY_DIR}/_third_party/archives")
  set(extract_dir "${CMAKE_BINARY_DIR}/_third_party/${package}-${version}")

  if(RUVICORN_THIRD_PARTY_DIR)
    _ruvicorn_find_archive("${RUVICORN_THIRD_PARTY_DIR}" "${package}" "${version}" archive)
    if(NOT archive)
      message(FATAL_ERROR "ruvicorn: ${package}-${version} sdist not found in "
                          "RUVICORN_THIRD_PARTY_DIR=${RUVICORN_THIRD_PARTY_DIR}")
    endif()
  else()
    _ruvicorn_find_archive("${download_dir}" "${package}" "${version}" archive)
    if(archive)
      file(SHA256 "${archive}" have)
      if(NOT have STREQUAL sha256)
        file(REMOVE "${archive}")
        set(archive "")
      endif()
    endif()
    if(NOT archive)
      find_package(Python3 COMPONENTS Interpreter REQUIRED)
      message(STATUS "ruvicorn: pip download ${package}==${version}")
      execute_process(
        COMMAND "${Python3_EXECUTABLE}" -m pip download --no-deps --no-binary :all:
                --disable-pip-version-check --quiet -d "${download_dir}" "${package}==${version}"
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "ruvicorn: could not download ${package}==${version} with pip "
                            "(set RUVICORN_THIRD_PARTY_DIR for offline builds):\n${out}${err}")
      endif()
      _ruvicorn_find_archive("${download_dir}" "${package}" "${version}" archive)
    endif()
  endif()

  file(SHA256 "${archive}" have)
  if(NOT have STREQUAL sha256)
    message(FATAL_ERROR "ruvicorn: SHA-256 mismatch for ${archive}\n  expected ${sha256}\n  got      ${have}")
  endif()
  message(STATUS "ruvicorn: using ${archive} (SHA-256 verified)")
  if(NOT EXISTS "${extract_dir}/.extracted-${sha256}")
    file(REMOVE_RECURSE "${extract_dir}")
    file(ARCHIVE_EXTRACT INPUT "${archive}" DESTINATION "${extract_dir}")
    file(TOUCH "${extract_dir}/.extracted-${sha256}")
  endif()
  file(GLOB top LIST_DIRECTORIES true "${extract_dir}/${package}-*" "${extract_dir}/*-${version}")
  list(GET top 0 top)
  if(NOT EXISTS "${top}/${subdir}")
    message(FATAL_ERROR "ruvicorn: ${top}/${subdir} missing from the ${package} sdist")
  endif()
  set(${out_var} "${top}/${subdir}" PARENT_SCOPE)
  set(${out_var}_ROOT "${top}" PARENT_SCOPE)
endfunction()
