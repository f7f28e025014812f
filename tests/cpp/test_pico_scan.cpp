// picohttpparser's two scans (third_party/CMakeLists.txt builds it portable and, on x86, with
// SSE4.2): every byte value at every offset of 16-byte blocks of the target and of header values
// (the SSE4.2 path scans 16 bytes per step, then finishes byte by byte) gives the same outcome,
// compared on the raw phr_parse_request results and through the HeadParser.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "check.hpp"
#include "picohttpparser.h"
#include "ruvicorn/parser.hpp"

#if RUVICORN_PICO_SSE42_BUILT
extern "C" decltype(phr_parse_request) ruvicorn_sse42_phr_parse_request;
#endif

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

// phr_parse_request's return value and every view, as offsets into the input.
std::string raw(decltype(&phr_parse_request) parse, const std::string& data) {
  const char *method = nullptr, *path = nullptr;
  std::size_t method_len = 0, path_len = 0, count = 32;
  int minor = -1;
  phr_header headers[32];
  int r = parse(data.data(), data.size(), &method, &method_len, &path, &path_len, &minor, headers,
                &count, 0);
  std::string out = std::to_string(r);
  if (r <= 0) return out;
  auto at = [&](const char* p) { return p ? std::to_string(p - data.data()) : std::string("-"); };
  out += " m" + at(method) + "+" + std::to_string(method_len) + " p" + at(path) + "+" +
         std::to_string(path_len) + " v" + std::to_string(minor);
  for (std::size_t i = 0; i < count; ++i)
    out += " " + at(headers[i].name) + "+" + std::to_string(headers[i].name_len) + "=" +
           at(headers[i].value) + "+" + std::to_string(headers[i].value_len);
  return out;
}

struct Result {
  ParseStatus status;
  int code;
  std::string reason;
  std::string view;  // method|target|name=value... when complete
};

Result parse(HeadParser& parser, const std::string& data) {
  RequestHead head;
  HttpError err;
  Result r{parser.parse(data, head, err), err.status, std::string(err.reason), ""};
  if (r.status == ParseStatus::kComplete) {
    r.view = std::string(head.method) + "|" + std::string(head.target) + "|" +
             std::to_string(head.head_length);
    for (std::size_t i = 0; i < head.header_count; ++i)
      r.view += "|" + std::string(head.headers[i].name) + "=" + std::string(head.headers[i].value);
  }
  return r;
}

int compared = 0;

void same(const std::string& data) {
  Limits limits;
  auto portable = make_pico_parser(limits, PicoScan::kPortable);
  auto sse42 = make_pico_parser(limits, PicoScan::kSse42);
  Result a = parse(*portable, data), b = parse(*sse42, data);
  ++compared;
#if RUVICORN_PICO_SSE42_BUILT
  const std::string raw_portable = raw(&phr_parse_request, data);
  const std::string raw_sse42 =
      pico_sse42_available() ? raw(&ruvicorn_sse42_phr_parse_request, data) : raw_portable;
  CHECK_EQ(raw_portable, raw_sse42);
#else
  const std::string raw_portable, raw_sse42;
#endif
  if (a.status != b.status || a.code != b.code || a.reason != b.reason || a.view != b.view ||
      raw_portable != raw_sse42) {
    std::fprintf(stderr, "  scans differ on (%zu bytes): ", data.size());
    for (unsigned char c : data) std::fprintf(stderr, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    std::fprintf(stderr, "\n");
  }
  CHECK_EQ(static_cast<int>(a.status), static_cast<int>(b.status));
  CHECK_EQ(a.code, b.code);
  CHECK_EQ(a.reason, b.reason);
  CHECK_EQ(a.view, b.view);
}

}  // namespace

TEST(every_byte_at_every_offset_of_a_header_value) {
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string value(length, 'v');
        value[at] = static_cast<char>(byte);
        same("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + value + "\r\nAccept: */*\r\n\r\n");
      }
    }
  }
}

TEST(every_byte_at_every_offset_of_the_target) {
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string target = "/" + std::string(length, 'p');
        target[1 + at] = static_cast<char>(byte);
        same("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
      }
    }
  }
}

TEST(long_heads_and_cut_heads) {
  std::string head = "GET /search/caf%C3%A9?q=ruvicorn&lang=en HTTP/1.1\r\nHost: www.example.com\r\n"
                     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n"
                     "Cookie: session=4f2a9c1e7b3d4e5f8a9b0c1d2e3f4a5b; theme=dark\r\n\r\n";
  for (std::size_t cut = 0; cut <= head.size(); ++cut) same(head.substr(0, cut));
}

TEST(the_default_scan_is_sse42_where_the_cpu_has_it) {
  // RUVICORN_PICO_SSE42=0 in the environment forces the portable scan (tests/cli checks it).
  std::printf("  SSE4.2 available: %s; compared %d inputs\n", pico_sse42_available() ? "yes" : "no",
              compared);
  const char* forced = std::getenv("RUVICORN_PICO_SSE42");
  const bool on = pico_sse42_available() && !(forced && std::string(forced) == "0");
  CHECK(pico_default_scan() == (on ? PicoScan::kSse42 : PicoScan::kPortable));
}

CHECK_MAIN()
