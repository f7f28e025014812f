// Versions come from third_party/pins.cmake, passed as compile definitions of this file only (see
// src/cpp/core/CMakeLists.txt); the SSE4.2 answer from the run-time choice in http1/pico_parser.cpp.
#include "ruvicorn/build_info.hpp"

#include "ruvicorn/parser.hpp"

namespace ruvicorn {

ComponentVersion picohttpparser_version() noexcept {
  return {"picohttpparser", RUVICORN_PICO_UPSTREAM,
          RUVICORN_PICO_PACKAGE " " RUVICORN_PICO_PACKAGE_VERSION};
}

ComponentVersion llhttp_version() noexcept {
  return {"llhttp", RUVICORN_LLHTTP_UPSTREAM,
          RUVICORN_LLHTTP_PACKAGE " " RUVICORN_LLHTTP_PACKAGE_VERSION};
}

bool picohttpparser_sse42() noexcept {
  return http1::pico_default_scan() == http1::PicoScan::kSse42;
}

}  // namespace ruvicorn
