// Errors cross the core's API as values: what to answer and whether the connection must close.
#pragma once
#include <string_view>

namespace ruvicorn {

struct HttpError {
  int status = 0;                // 0: no error; otherwise the 4xx/5xx to answer with
  std::string_view reason;       // static text naming the problem, sent in the response body
  bool close = true;             // every parse error closes: the byte stream can't be trusted
  // A framing a proxy in front could read differently (request smuggling, RFC 9112 6.1, 6.3,
  // 5.1): refused as any 400, counted apart by --metrics.
  bool smuggling = false;

  constexpr explicit operator bool() const { return status != 0; }
};

// Reason phrase for a status code ("Not Found"); "Unknown" for codes without one.
std::string_view status_reason(int status);

}  // namespace ruvicorn
