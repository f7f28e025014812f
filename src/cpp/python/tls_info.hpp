// The ASGI TLS extension (scope["extensions"]["tls"], asgiref specs/tls.rst): computed once per
// connection from the transport's ssl_object by ruvicorn.tls (HttpContext::tls_extension), then
// given to every scope of the connection (HTTP/1.1 requests, HTTP/2 streams, WebSockets).
#pragma once
#include <pybind11/pybind11.h>

#include "context.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
struct PeerInfo;

// The extension's dict for a TLS connection (`get_extra_info` is the transport's), or an empty
// object when there is none to give. Never throws: a failure is logged and the scopes go without.
pb::object tls_extension(HttpContext& ctx, const pb::object& get_extra_info) noexcept;

// scope["extensions"]: a copy of `base`, with "tls" (a copy of the connection's) over TLS. New
// reference, or nullptr with a Python error set.
PyObject* scope_extensions(const PeerInfo& peer, PyObject* base);

}  // namespace ruvicorn::py
