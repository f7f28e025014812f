// Turns a parsed RequestHead into a Request: the one place where the framing and semantic rules of
// RFC 9112 are applied (Content-Length, Transfer-Encoding, Host, keep-alive, Expect, Upgrade), so
// both parser back ends behave alike.
#pragma once
#include "ruvicorn/connection.hpp"

namespace ruvicorn::http1 {

// Fills `out` (views into the head's buffer) or returns the error to answer with.
HttpError make_request(const RequestHead& head, const Limits& limits, Request& out);

}  // namespace ruvicorn::http1
