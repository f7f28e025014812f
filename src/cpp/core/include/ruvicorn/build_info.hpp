// What the core was built from: the parsers' pinned versions (third_party/pins.cmake) and which of
// their SIMD paths are in use. For `ruvicorn --version` and for embedders' diagnostics.
#pragma once
#include <string_view>

namespace ruvicorn {

struct ComponentVersion {
  std::string_view name;     // "picohttpparser"
  std::string_view version;  // the upstream release, or commit where there is no release
  std::string_view source;   // the pinned sdist it was built from, "pypicohp 0.1.3"
};

ComponentVersion picohttpparser_version() noexcept;
ComponentVersion llhttp_version() noexcept;

// Whether picohttpparser scans with SSE4.2 (PCMPESTRI): on x86 both scans are built and the CPU
// decides at run time; the environment variable RUVICORN_PICO_SSE42=0 forces the portable one.
bool picohttpparser_sse42() noexcept;

}  // namespace ruvicorn
