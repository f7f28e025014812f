// build_info: the parsers' versions come from third_party/pins.cmake (compared with the pins
// themselves by tests/cli/test_version.py through the binding).
#include "check.hpp"
#include "ruvicorn/build_info.hpp"

using namespace ruvicorn;

TEST(picohttpparser_names_its_commit_and_sdist) {
  const ComponentVersion v = picohttpparser_version();
  CHECK_EQ(v.name, std::string_view("picohttpparser"));
  CHECK(v.version.size() >= 7);  // an abbreviated commit: upstream makes no releases
  CHECK(v.source.substr(0, 9) == "pypicohp ");
}

TEST(llhttp_names_its_release_and_sdist) {
  const ComponentVersion v = llhttp_version();
  CHECK_EQ(v.name, std::string_view("llhttp"));
  CHECK(v.version.find('.') != std::string_view::npos);
  CHECK(v.source.substr(0, 7) == "llhttp ");
  // The sdist's version extends the upstream release ("9.3.0" -> "llhttp 9.3.0.0").
  CHECK(v.source.substr(7, v.version.size()) == v.version);
}

CHECK_MAIN()
