#include "scope.hpp"

#include <string>
#include <utility>

#include "context.hpp"
#include "names.hpp"
#include "pyutil.hpp"
#include "tls_info.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Steals `value`; returns false (error set) on failure.
bool set(PyObject* dict, PyObject* key, PyObject* value) {
  if (value == nullptr) return false;
  const int rc = PyDict_SetItem(dict, key, value);
  Py_DECREF(value);
  return rc == 0;
}

bool set_borrowed(PyObject* dict, PyObject* key, PyObject* value) {
  if (value == nullptr) {  // e.g. a peer address that could not be made
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_SystemError, "ruvicorn: scope value missing");
    return false;
  }
  return PyDict_SetItem(dict, key, value) == 0;
}

// --proxy-headers for a trusted peer: Python runs only if the request carries the headers. The
// last X-Forwarded-Proto counts; every X-Forwarded-For goes, joined with ", " in order (proxies
// that each add a field instead of appending to one).
bool apply_proxy_headers(HttpContext& ctx, const ScopeRequest& request, PyObject* scope) {
  const Header* proto = nullptr;
  std::string_view forwarded_for;
  std::string joined;
  std::size_t forwarded_count = 0;
  for (std::size_t i = 0; i < request.header_count; ++i) {
    const Header& h = request.headers[i];
    if (h.name.size() == 17 && iequals(h.name, "x-forwarded-proto")) {
      proto = &h;
    } else if (h.name.size() == 15 && iequals(h.name, "x-forwarded-for")) {
      if (++forwarded_count == 1) {
        forwarded_for = h.value;
        continue;
      }
      if (forwarded_count == 2) joined.assign(forwarded_for);
      joined += ", ";
      joined.append(h.value);
    }
  }
  if (proto == nullptr && forwarded_count == 0) return true;
  if (forwarded_count > 1) forwarded_for = joined;
  auto as_bytes = [](bool present, std::string_view value) -> PyObject* {
    if (!present) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
  };
  PyObject* p = as_bytes(proto != nullptr, proto != nullptr ? proto->value : std::string_view());
  PyObject* f = as_bytes(forwarded_count > 0, forwarded_for);
  PyObject* r = (p && f) ? PyObject_CallFunctionObjArgs(ctx.proxy_apply.ptr(),
                                                        ctx.proxy_trusted.ptr(), scope, p, f,
                                                        nullptr)
                         : nullptr;
  Py_XDECREF(p);
  Py_XDECREF(f);
  Py_XDECREF(r);
  return r != nullptr;
}

}  // namespace

void percent_decode(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '%' && i + 2 < raw.size()) {
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(c);
  }
}

ScopeRequest scope_request(const http1::Request& request) {
  ScopeRequest r;
  r.method = request.head.method;
  r.path = request.path;
  r.query = request.query;
  r.http_version = request.head.http_minor == 0 ? names.v1_0 : names.v1_1;
  r.headers = request.head.headers;
  r.header_count = request.head.header_count;
  return r;
}

PyObject* build_headers(const Header* headers, std::size_t count) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(count));
  if (list == nullptr) return nullptr;
  for (std::size_t i = 0; i < count; ++i) {
    const Header& h = headers[i];
    PyObject* name = header_name_bytes(h.name);
    PyObject* value =
        PyBytes_FromStringAndSize(h.value.data(), static_cast<Py_ssize_t>(h.value.size()));
    if (name == nullptr || value == nullptr) {
      Py_XDECREF(name);
      Py_XDECREF(value);
      Py_DECREF(list);
      return nullptr;
    }
    PyObject* pair = PyTuple_New(2);
    if (pair == nullptr) {
      Py_DECREF(name);
      Py_DECREF(value);
      Py_DECREF(list);
      return nullptr;
    }
    PyTuple_SET_ITEM(pair, 0, name);
    PyTuple_SET_ITEM(pair, 1, value);
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), pair);
  }
  return list;
}

PyObject* build_scope(HttpContext& ctx, const PeerInfo& peer, const ScopeRequest& request,
                      bool websocket) {
  const Names& n = names;
  const bool has_state = !ctx.lifespan_state.is_none();
  PyObject* scope = PyDict_Copy(n.scope_templates[websocket][has_state]);
  if (scope == nullptr) return nullptr;

  // path: root_path + percent-decoded path (UTF-8, invalid bytes replaced), as uvicorn does.
  PyObject* root = ctx.root_path.ptr();
  const Py_ssize_t root_len = PyUnicode_GET_LENGTH(root);
  PyObject* path = nullptr;
  PyObject* raw_path = nullptr;
  if (request.path.find('%') == std::string_view::npos) {
    path = PyUnicode_DecodeUTF8(request.path.data(), static_cast<Py_ssize_t>(request.path.size()),
                                "replace");
  } else {
    std::string decoded;
    percent_decode(request.path, decoded);
    path = PyUnicode_DecodeUTF8(decoded.data(), static_cast<Py_ssize_t>(decoded.size()), "replace");
  }
  if (root_len > 0 && path != nullptr) {
    PyObject* joined = PyUnicode_Concat(root, path);
    Py_DECREF(path);
    path = joined;
    Py_ssize_t root_bytes_len = 0;
    const char* root_bytes = PyUnicode_AsUTF8AndSize(root, &root_bytes_len);
    if (root_bytes != nullptr) {  // else raw_path stays null: the scope fails with the error
      std::string raw(root_bytes, static_cast<std::size_t>(root_bytes_len));
      raw.append(request.path);
      raw_path = PyBytes_FromStringAndSize(raw.data(), static_cast<Py_ssize_t>(raw.size()));
    }
  } else {
    raw_path = PyBytes_FromStringAndSize(request.path.data(),
                                         static_cast<Py_ssize_t>(request.path.size()));
  }

  PyObject* scheme = peer.scheme.ptr();
  if (websocket) scheme = (scheme == n.scheme_https) ? n.scheme_wss : n.scheme_ws;

  const bool ok =
      set_borrowed(scope, n.type, websocket ? n.websocket : n.http) &&
      set(scope, n.asgi, PyDict_Copy(websocket ? n.asgi_ws : n.asgi_http)) &&
      set_borrowed(scope, n.http_version, request.http_version) &&
      set_borrowed(scope, n.scheme, scheme) &&
      // set() steals even when it fails: ownership moves before the call.
      set(scope, n.path, std::exchange(path, nullptr)) &&
      set(scope, n.raw_path, std::exchange(raw_path, nullptr)) &&
      set(scope, n.query_string,
          PyBytes_FromStringAndSize(request.query.data(),
                                    static_cast<Py_ssize_t>(request.query.size()))) &&
      set_borrowed(scope, n.root_path, root) &&
      set(scope, n.headers, build_headers(request.headers, request.header_count)) &&
      set_borrowed(scope, n.client, peer.client.ptr()) &&
      set_borrowed(scope, n.server, peer.server.ptr()) &&
      set(scope, n.extensions,
          scope_extensions(peer, websocket ? n.extensions_ws : n.extensions_http)) &&
      (websocket || set(scope, n.method, method_str(request.method))) &&
      (!has_state || set(scope, n.state, PyDict_Copy(ctx.lifespan_state.ptr())));
  Py_XDECREF(path);
  Py_XDECREF(raw_path);
  if (!ok) {
    Py_DECREF(scope);
    return nullptr;
  }
  if (peer.trusted_proxy && !apply_proxy_headers(ctx, request, scope)) {
    Py_DECREF(scope);
    return nullptr;
  }
  if (websocket) {
    // Sec-WebSocket-Protocol offers, comma-separated, possibly over several fields.
    PyObject* protocols = PyList_New(0);
    if (protocols == nullptr) {
      Py_DECREF(scope);
      return nullptr;
    }
    for (std::size_t i = 0; i < request.header_count; ++i) {
      const Header& h = request.headers[i];
      if (!iequals(h.name, "sec-websocket-protocol")) continue;
      std::string_view v = h.value;
      while (!v.empty()) {
        const std::size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) {
          PyObject* s = PyUnicode_DecodeLatin1(item.data(), static_cast<Py_ssize_t>(item.size()),
                                               nullptr);
          if (s == nullptr || PyList_Append(protocols, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(protocols);
            Py_DECREF(scope);
            return nullptr;
          }
          Py_DECREF(s);
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
    if (!set(scope, n.subprotocols, protocols)) {
      Py_DECREF(scope);
      return nullptr;
    }
  }
  return scope;
}

}  // namespace ruvicorn::py
