#include "names.hpp"

#include <pybind11/pybind11.h>

#include <array>
#include <cstring>

namespace ruvicorn::py {

Names names;

namespace {

// init_names() runs once at import: a failure (MemoryError) fails the import rather than leave a
// null name for the first request to crash on.
PyObject* must(PyObject* o) {
  if (o == nullptr) throw pybind11::error_already_set();
  return o;
}
PyObject* intern(const char* s) { return must(PyUnicode_InternFromString(s)); }
void put(PyObject* dict, const char* key, PyObject* value) {  // steals `value`
  const int rc = PyDict_SetItemString(dict, key, value);
  Py_DECREF(value);
  if (rc < 0) throw pybind11::error_already_set();
}

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH",
                                    "TRACE"};
std::array<PyObject*, sizeof kMethods / sizeof kMethods[0]> method_objs;

// Common request header names, lower-case (RFC 9110 and browser traffic).
constexpr const char* kHeaderNames[] = {
    "host", "user-agent", "accept", "accept-encoding", "accept-language", "connection",
    "content-length", "content-type", "cookie", "referer", "origin", "cache-control",
    "upgrade-insecure-requests", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
    "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "authorization",
    "if-none-match", "if-modified-since", "pragma", "transfer-encoding", "upgrade",
    "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
    "sec-websocket-protocol", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
    "x-real-ip", "x-request-id", "dnt", "te", "expect", "range", "accept-charset", "forwarded"};
constexpr std::size_t kHeaderCount = sizeof kHeaderNames / sizeof kHeaderNames[0];
std::array<PyObject*, kHeaderCount> header_objs;
std::array<std::size_t, kHeaderCount> header_lens;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

void init_names() {
  Names& n = names;
  n.type = intern("type");
  n.asgi = intern("asgi");
  n.http_version = intern("http_version");
  n.server = intern("server");
  n.client = intern("client");
  n.scheme = intern("scheme");
  n.method = intern("method");
  n.root_path = intern("root_path");
  n.path = intern("path");
  n.raw_path = intern("raw_path");
  n.query_string = intern("query_string");
  n.headers = intern("headers");
  n.state = intern("state");
  n.extensions = intern("extensions");
  n.subprotocols = intern("subprotocols");
  n.status = intern("status");
  n.body = intern("body");
  n.more_body = intern("more_body");
  n.trailers = intern("trailers");
  n.more_trailers = intern("more_trailers");
  n.code = intern("code");
  n.reason = intern("reason");
  n.bytes = intern("bytes");
  n.text = intern("text");
  n.subprotocol = intern("subprotocol");
  n.links = intern("links");
  n.http = intern("http");
  n.websocket = intern("websocket");
  n.http_request = intern("http.request");
  n.http_disconnect = intern("http.disconnect");
  n.http_response_start = intern("http.response.start");
  n.http_response_body = intern("http.response.body");
  n.http_response_trailers = intern("http.response.trailers");
  n.http_response_pathsend = intern("http.response.pathsend");
  n.http_response_early_hint = intern("http.response.early_hint");
  n.websocket_connect = intern("websocket.connect");
  n.websocket_accept = intern("websocket.accept");
  n.websocket_receive = intern("websocket.receive");
  n.websocket_send = intern("websocket.send");
  n.websocket_close = intern("websocket.close");
  n.websocket_disconnect = intern("websocket.disconnect");
  n.websocket_http_response_start = intern("websocket.http.response.start");
  n.websocket_http_response_body = intern("websocket.http.response.body");
  n.v1_0 = intern("1.0");
  n.v1_1 = intern("1.1");
  n.v2 = intern("2");
  n.v3 = intern("3");
  n.scheme_http = intern("http");
  n.scheme_https = intern("https");
  n.scheme_ws = intern("ws");
  n.scheme_wss = intern("wss");
  n.empty_bytes = must(PyBytes_FromStringAndSize("", 0));
  n.empty_str = intern("");
  // HTTP: 2.3, as uvicorn. send() after a disconnect is a no-op (issue 3), so apps must learn of
  // it through receive(); from 2.4 on, Starlette would instead wait for send() to raise.
  // WebSocket: 2.4, where send() after a disconnect raises (ClientDisconnected, an OSError).
  auto asgi = [](const char* spec) {
    PyObject* d = must(PyDict_New());
    put(d, "version", intern("3.0"));
    put(d, "spec_version", intern(spec));
    return d;
  };
  n.asgi_http = asgi("2.3");
  n.asgi_ws = asgi("2.4");
  n.extensions_http = must(PyDict_New());
  put(n.extensions_http, "http.response.trailers", must(PyDict_New()));
  put(n.extensions_http, "http.response.pathsend", must(PyDict_New()));
  put(n.extensions_http, "http.response.early_hint", must(PyDict_New()));
  n.extensions_ws = must(PyDict_New());
  put(n.extensions_ws, "websocket.http.response", must(PyDict_New()));
  for (int ws = 0; ws < 2; ++ws) {
    for (int state = 0; state < 2; ++state) {
      PyObject* t = must(PyDict_New());
      // The order of the keys is the order a scope's keys appear in (build_scope's).
      for (PyObject* key : {n.type, n.asgi, n.http_version, n.scheme, n.path, n.raw_path,
                            n.query_string, n.root_path, n.headers, n.client, n.server,
                            n.extensions}) {
        if (PyDict_SetItem(t, key, Py_None) < 0) must(nullptr);
      }
      if (!ws && PyDict_SetItem(t, n.method, Py_None) < 0) must(nullptr);
      if (state && PyDict_SetItem(t, n.state, Py_None) < 0) must(nullptr);
      if (ws && PyDict_SetItem(t, n.subprotocols, Py_None) < 0) must(nullptr);
      n.scope_templates[ws][state] = t;
    }
  }
  n.get_extra_info = intern("get_extra_info");
  n.peername = intern("peername");
  n.sockname = intern("sockname");
  n.sslcontext = intern("sslcontext");
  n.write = intern("write");
  n.pause_reading = intern("pause_reading");
  n.resume_reading = intern("resume_reading");
  n.close = intern("close");
  n.is_closing = intern("is_closing");
  n.create_future = intern("create_future");
  n.create_task = intern("create_task");
  n.set_result = intern("set_result");
  n.set_exception = intern("set_exception");
  n.done = intern("done");
  n.add = intern("add");
  n.discard = intern("discard");
  n.call_later = intern("call_later");
  n.call_soon = intern("call_soon");
  n.cancel = intern("cancel");
  n.task_kwnames = must(PyTuple_Pack(3, intern("loop"), intern("context"), intern("eager_start")));
  for (std::size_t i = 0; i < method_objs.size(); ++i) method_objs[i] = intern(kMethods[i]);
  for (std::size_t i = 0; i < kHeaderCount; ++i) {
    header_lens[i] = std::strlen(kHeaderNames[i]);
    header_objs[i] = must(PyBytes_FromStringAndSize(kHeaderNames[i], header_lens[i]));
  }
}

PyObject* method_str(std::string_view method) {
  for (std::size_t i = 0; i < method_objs.size(); ++i) {
    if (method == kMethods[i]) {
      Py_INCREF(method_objs[i]);
      return method_objs[i];
    }
  }
  return PyUnicode_DecodeLatin1(method.data(), static_cast<Py_ssize_t>(method.size()), nullptr);
}

PyObject* header_name_bytes(std::string_view name) {
  char buf[64];
  if (name.size() <= sizeof buf) {
    for (std::size_t i = 0; i < name.size(); ++i) buf[i] = lower(name[i]);
    const std::string_view low(buf, name.size());
    for (std::size_t i = 0; i < kHeaderCount; ++i) {
      if (header_lens[i] == low.size() && std::memcmp(kHeaderNames[i], buf, low.size()) == 0) {
        Py_INCREF(header_objs[i]);
        return header_objs[i];
      }
    }
    return PyBytes_FromStringAndSize(buf, static_cast<Py_ssize_t>(name.size()));
  }
  PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(name.size()));
  if (out == nullptr) return nullptr;
  char* p = PyBytes_AS_STRING(out);
  for (std::size_t i = 0; i < name.size(); ++i) p[i] = lower(name[i]);
  return out;
}

}  // namespace ruvicorn::py
