// _core.build_info(): what this extension was built from, for `ruvicorn --version` and bug reports.
#include <pybind11/pybind11.h>

#include "ruvicorn/build_info.hpp"
#include "ruvicorn/version.hpp"

namespace pb = pybind11;

namespace ruvicorn::py {

namespace {

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "GCC " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

pb::str to_str(std::string_view s) { return pb::str(s.data(), s.size()); }

pb::dict parser_entry(const ComponentVersion& v, pb::dict simd) {
  pb::dict d;
  d["name"] = to_str(v.name);
  d["version"] = to_str(v.version);
  d["source"] = to_str(v.source);
  d["simd"] = std::move(simd);  // path name -> whether it is in use
  return d;
}

pb::dict build_info() {
  pb::dict simd_pico;
  simd_pico["SSE4.2"] = pb::bool_(picohttpparser_sse42());
  pb::list parsers;
  parsers.append(parser_entry(picohttpparser_version(), std::move(simd_pico)));
  parsers.append(parser_entry(llhttp_version(), pb::dict()));
  pb::dict info;
  info["version"] = RUVICORN_VERSION;
  info["parsers"] = std::move(parsers);
  info["compiler"] = kCompiler;
  return info;
}

}  // namespace

void register_build_info(pb::module_& m) {
  m.def("build_info", &build_info,
        "The parsers this extension was built with (name, version, source sdist, SIMD paths in "
        "use), the ruvicorn version and the compiler, as a dict.");
}

}  // namespace ruvicorn::py
