// Values come from third_party/pins.cmake and the SSE4.2 probe in third_party/CMakeLists.txt,
// passed as compile definitions of this file only (see src/cpp/core/CMakeLists.txt).
#include "ruvicorn/build_info.hpp"

namespace ruvicorn {

ComponentVersion picohttpparser_version() noexcept {
  return {"picohttpparser", RUVICORN_PICO_UPSTREAM,
          RUVICORN_PICO_PACKAGE " " RUVICORN_PICO_PACKAGE_VERSION};
}

ComponentVersion llhttp_version() noexcept {
  return {"llhttp", RUVICORN_LLHTTP_UPSTREAM,
          RUVICORN_LLHTTP_PACKAGE " " RUVICORN_LLHTTP_PACKAGE_VERSION};
}

bool picohttpparser_sse42() noexcept { return RUVICORN_PICO_SSE42 != 0; }

}  // namespace ruvicorn
