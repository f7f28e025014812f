// Fuzz target: both parser back ends (and picohttpparser's two scans) must agree on every input
// (status, error, views), and every head they accept must be accepted alike by the strict
// reference reading of the policy.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http1/head_syntax.hpp"
#include "ruvicorn/parser.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_parser: %s\ninput (%zu bytes): ", what, input.size());
  for (unsigned char c : input) {
    if (c >= 0x20 && c < 0x7f && c != '\\') std::fputc(c, stderr);
    else std::fprintf(stderr, "\\x%02x", c);
  }
  std::fputc('\n', stderr);
  std::abort();
}

bool same_head(const RequestHead& a, const RequestHead& b) {
  if (a.method != b.method || a.target != b.target || a.http_minor != b.http_minor ||
      a.head_length != b.head_length || a.header_count != b.header_count)
    return false;
  for (std::size_t i = 0; i < a.header_count; ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first byte picks small limits now and then, so the limit paths are fuzzed too.
  Limits limits;
  if (data[0] & 1) {
    limits.max_request_line = 24 + (data[0] >> 3);
    limits.max_header_count = 1 + (data[0] >> 5);
    limits.max_header_field_size = 16 + (data[0] >> 2);
    limits.max_head_size = 128 + data[0];
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto pico = make_parser(ParserKind::kPico, limits);
  auto llhttp = make_parser(ParserKind::kLlhttp, limits);
  RequestHead a, b;
  HttpError ea, eb;
  // The second byte picks a prefix parsed first: the incremental path must end where a single
  // parse of the whole input ends.
  const std::size_t cut = data[1] % (input.size() + 1);
  ParseStatus first = pico->parse(input.substr(0, cut), a, ea);
  if (first != llhttp->parse(input.substr(0, cut), b, eb))
    fail("pico and llhttp disagree on a prefix", input);
  ParseStatus sa = pico->parse(input, a, ea);
  ParseStatus sb = llhttp->parse(input, b, eb);
  if (first != ParseStatus::kIncomplete) {
    // after a complete or failed prefix a new head starts: compare with fresh parsers instead
    pico = make_parser(ParserKind::kPico, limits);
    llhttp = make_parser(ParserKind::kLlhttp, limits);
    sa = pico->parse(input, a, ea);
    sb = llhttp->parse(input, b, eb);
  } else {
    auto fresh = make_parser(ParserKind::kPico, limits);
    RequestHead f;
    HttpError ef;
    ParseStatus sf = fresh->parse(input, f, ef);
    if (sf != sa || ef.status != ea.status || ef.reason != ea.reason)
      fail("incremental parse differs from a single parse", input);
  }
  if (sa != sb) fail("pico and llhttp disagree on the status", input);
  {
    // picohttpparser's portable and SSE4.2 scans (the latter where the CPU has it) agree.
    auto portable = make_pico_parser(limits, PicoScan::kPortable);
    auto sse42 = make_pico_parser(limits, PicoScan::kSse42);
    RequestHead p, q;
    HttpError ep, eq;
    ParseStatus sp = portable->parse(input, p, ep), sq = sse42->parse(input, q, eq);
    if (sp != sq || ep.status != eq.status || ep.reason != eq.reason ||
        (sp == ParseStatus::kComplete && !same_head(p, q)))
      fail("picohttpparser's portable and SSE4.2 scans disagree", input);
  }
  if (sa == ParseStatus::kError && (ea.status != eb.status || ea.reason != eb.reason))
    fail("pico and llhttp give different errors", input);
  if (sa != ParseStatus::kComplete) return 0;
  if (!same_head(a, b)) fail("pico and llhttp give different heads", input);
  if (a.head_length > input.size() || a.head_length > limits.max_head_size)
    fail("head length out of bounds", input);

  std::vector<Header> storage(limits.max_header_count + 1);
  RequestHead s;
  HttpError es;
  if (!http1::parse_head_strict(input.substr(0, a.head_length), storage.data(),
                                limits.max_header_count, s, es))
    fail("a back end accepted a head the policy rejects", input);
  if (!same_head(a, s)) fail("back end and strict reading give different heads", input);
  return 0;
}
