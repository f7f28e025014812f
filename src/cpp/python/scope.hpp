// The one place that builds ASGI scopes (HTTP and WebSocket) from a parsed request.
#pragma once
#include <Python.h>

#include "ruvicorn/connection.hpp"

namespace ruvicorn::py {

class HttpProtocol;

// New reference, or nullptr with a Python error set. `websocket` selects the websocket scope.
PyObject* build_scope(HttpProtocol& protocol, const http1::Request& request, bool websocket);
// The list of (name, value) header tuples, names lower-cased. New reference.
PyObject* build_headers(const http1::RequestHead& head);
// Percent-decodes `raw` into `out` (invalid escapes kept as is, like urllib.parse.unquote).
void percent_decode(std::string_view raw, std::string& out);

}  // namespace ruvicorn::py
