// The one place that builds ASGI scopes (HTTP and WebSocket) from a parsed request, whatever the
// protocol version: HTTP/1.1 and HTTP/2 requests are both described as a ScopeRequest.
#pragma once
#include <Python.h>

#include <string>
#include <string_view>

#include "ruvicorn/connection.hpp"
#include "ruvicorn/header.hpp"

namespace ruvicorn::py {

struct HttpContext;
struct PeerInfo;

// Views valid while the scope is built.
struct ScopeRequest {
  std::string_view method;
  std::string_view path;   // raw, not percent-decoded
  std::string_view query;
  PyObject* http_version = nullptr;  // borrowed: names.v1_0, v1_1 or v2
  const Header* headers = nullptr;   // in order; HTTP/2: host from :authority first
  std::size_t header_count = 0;
};

ScopeRequest scope_request(const http1::Request& request);

// New reference, or nullptr with a Python error set. `websocket` selects the websocket scope.
PyObject* build_scope(HttpContext& ctx, const PeerInfo& peer, const ScopeRequest& request,
                      bool websocket);
// The list of (name, value) header tuples, names lower-cased. New reference.
PyObject* build_headers(const Header* headers, std::size_t count);
// Percent-decodes `raw` into `out` (invalid escapes kept as is, like urllib.parse.unquote).
void percent_decode(std::string_view raw, std::string& out);

}  // namespace ruvicorn::py
