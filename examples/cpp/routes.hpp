// The example's routes, the same for HTTP/1.1 (session.cpp) and HTTP/2 (h2_session.cpp):
//   GET|HEAD /   "Hello, world!\n"
//   POST /echo   the request body
//   /ws          a WebSocket echo (HTTP/1.1 upgrade only)
// anything else 404, a known path with another method 405.
#pragma once
#include <string_view>

namespace example {

enum class Route { kHello, kEcho, kWebSocket, kNotFound, kMethodNotAllowed };

inline constexpr std::string_view kHelloBody = "Hello, world!\n";
inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

struct Routing {
  Route route = Route::kNotFound;
  std::string_view allow;  // for a 405's Allow header
};

inline Routing route_request(std::string_view path, std::string_view method) {
  if (path == "/ws") return {Route::kWebSocket, {}};
  if (path == "/") {
    const bool get = method == "GET" || method == "HEAD";
    return {get ? Route::kHello : Route::kMethodNotAllowed, "GET, HEAD"};
  }
  if (path == "/echo") return {method == "POST" ? Route::kEcho : Route::kMethodNotAllowed, "POST"};
  return {Route::kNotFound, {}};
}

}  // namespace example
