// HeadParser over picohttpparser: pointers into the caller's bytes, no allocation per request.
// The scan (portable or SSE4.2) is chosen once per parser, from the CPU (see ruvicorn/parser.hpp).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "http1/head_parser.hpp"
#include "http1/parsers.hpp"
#include "picohttpparser.h"
#include "ruvicorn/buffer_pool.hpp"

#if RUVICORN_PICO_SSE42_BUILT
// The SSE4.2 build of the same source, its functions renamed (third_party/CMakeLists.txt).
extern "C" decltype(phr_parse_request) ruvicorn_sse42_phr_parse_request;
#endif

namespace ruvicorn::http1 {

namespace {

using ParseRequest = decltype(&phr_parse_request);

bool cpu_has_sse42() noexcept {
#if RUVICORN_PICO_SSE42_BUILT && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();  // may run before constructors that would otherwise do it
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

ParseRequest parse_function(PicoScan scan) noexcept {
#if RUVICORN_PICO_SSE42_BUILT
  if (scan == PicoScan::kSse42 && pico_sse42_available()) return &ruvicorn_sse42_phr_parse_request;
#else
  (void)scan;
#endif
  return &phr_parse_request;
}

class PicoParser final : public BasicHeadParser {
 public:
  PicoParser(const Limits& limits, PicoScan scan)
      : BasicHeadParser(limits), parse_(parse_function(scan)) {}

  void release_slots() override {
    BasicHeadParser::release_slots();
    BufferPool<std::vector<phr_header>>::give(phr_, max_pooled_bytes());
  }

 private:
  bool parse_complete(std::string_view bytes, RequestHead& out) override {
    // As many slots as headers_: a head with more fields fails here (-1), and the shared slow
    // path, which counted them, grows both before it asks again. Pooled like headers_.
    BufferPool<std::vector<phr_header>>::take(phr_);
    if (phr_.size() < headers_.size()) phr_.resize(headers_.size());
    const char* method = nullptr;
    const char* path = nullptr;
    std::size_t method_len = 0, path_len = 0, count = phr_.size();
    int minor = -1;
    // last_len is 0: heads that arrive in pieces are followed by the shared incremental line scan,
    // so picohttpparser only sees a head it can finish.
    int r = parse_(bytes.data(), bytes.size(), &method, &method_len, &path, &path_len, &minor,
                   phr_.data(), &count, 0);
    if (r <= 0 || count > limits_.max_header_count) return false;
    for (std::size_t i = 0; i < count; ++i) {
      const phr_header& h = phr_[i];
      if (h.name == nullptr) return false;  // obs-fold
      headers_[i] = Header{{h.name, h.name_len}, {h.value, h.value_len}};
    }
    out.method = {method, method_len};
    out.target = {path, path_len};
    out.http_minor = minor;
    out.headers = headers_.data();
    out.header_count = count;
    out.head_length = static_cast<std::size_t>(r);
    return true;
  }

  std::vector<phr_header> phr_;  // empty between heads, like headers_
  ParseRequest parse_;
};

}  // namespace

bool pico_sse42_available() noexcept {
  static const bool available = cpu_has_sse42();
  return available;
}

PicoScan pico_default_scan() noexcept {
  static const PicoScan scan = [] {
    const char* forced = std::getenv("RUVICORN_PICO_SSE42");
    const bool off = forced != nullptr && std::strcmp(forced, "0") == 0;
    return pico_sse42_available() && !off ? PicoScan::kSse42 : PicoScan::kPortable;
  }();
  return scan;
}

std::unique_ptr<HeadParser> make_pico_parser(const Limits& limits, PicoScan scan) {
  return std::make_unique<PicoParser>(limits, scan);
}

std::unique_ptr<HeadParser> make_pico_parser(const Limits& limits) {
  return make_pico_parser(limits, pico_default_scan());
}

}  // namespace ruvicorn::http1
