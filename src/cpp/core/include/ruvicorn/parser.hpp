// One interface over the two request-head parsers (picohttpparser, llhttp). A parser only finds the
// head: method, target, version and header slices into the caller's buffer; it never allocates
// per request and never looks at the body. Framing rules (Content-Length, Transfer-Encoding,
// keep-alive) are applied afterwards by one shared function, so both back ends behave the same.
#pragma once
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "ruvicorn/error.hpp"
#include "ruvicorn/header.hpp"
#include "ruvicorn/limits.hpp"

namespace ruvicorn::http1 {

struct RequestHead {
  std::string_view method;
  std::string_view target;        // request-target as sent ("/a%20b?x=1")
  int http_minor = 1;             // HTTP/1.<minor>; only 1.0 and 1.1 are accepted
  const Header* headers = nullptr;
  std::size_t header_count = 0;
  std::size_t head_length = 0;    // bytes of the head including the final CRLF CRLF
};

enum class ParseStatus { kComplete, kIncomplete, kError };

enum class ParserKind { kPico, kLlhttp };

class HeadParser {
 public:
  virtual ~HeadParser() = default;
  // Parses the head at the start of `data`. kComplete: `head` is filled, its views point into
  // `data`. kIncomplete: more bytes are needed (the caller checks max_head_size). kError: `error`
  // says why (400, 414 or 431).
  virtual ParseStatus parse(std::string_view data, RequestHead& head, HttpError& error) = 0;
  // The last head's views are no longer used: its header slots may go back to the thread's
  // pool (ruvicorn/buffer_pool.hpp), so that an idle connection holds none; parse() takes them
  // again. Connection calls it after each feed().
  virtual void release_slots() {}
};

std::unique_ptr<HeadParser> make_parser(ParserKind kind, const Limits& limits);

// picohttpparser is built twice on x86 (third_party/CMakeLists.txt): the portable scan and the
// SSE4.2 one (PCMPESTRI, 16 bytes per step), which give the same results; the CPU picks.
enum class PicoScan { kPortable, kSse42 };

// Whether the SSE4.2 build is in this binary and the CPU runs it.
bool pico_sse42_available() noexcept;
// The scan make_parser(kPico) uses: kSse42 when available, unless the environment variable
// RUVICORN_PICO_SSE42 is "0" (read once, the first time it is asked), to test the other.
PicoScan pico_default_scan() noexcept;
// A picohttpparser back end with the given scan; kSse42 where it is not available is kPortable.
std::unique_ptr<HeadParser> make_pico_parser(const Limits& limits, PicoScan scan);

// "pico"/"auto" -> kPico, "llhttp" -> kLlhttp; false for anything else.
bool parser_kind_from_name(std::string_view name, ParserKind& out);

}  // namespace ruvicorn::http1
