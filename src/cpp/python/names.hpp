// Python objects made once at import and reused for every request: the ASGI scope keys, message
// keys and types, common methods and the lower-cased common header names (interned, so dict
// lookups hit by pointer).
#pragma once
#include <Python.h>

#include <string_view>

namespace ruvicorn::py {

struct Names {
  // scope keys
  PyObject *type, *asgi, *http_version, *server, *client, *scheme, *method, *root_path, *path,
      *raw_path, *query_string, *headers, *state, *extensions, *subprotocols;
  // message keys
  PyObject *status, *body, *more_body, *trailers, *more_trailers, *code, *reason, *bytes, *text,
      *subprotocol, *links;
  // values
  PyObject *http, *websocket, *http_request, *http_disconnect, *http_response_start,
      *http_response_body, *http_response_trailers, *http_response_pathsend, *http_response_early_hint, *v1_0, *v1_1,
      *v2, *v3,
      *scheme_http, *scheme_https, *scheme_ws, *scheme_wss, *empty_bytes, *empty_str, *asgi_http, *asgi_ws,
      *extensions_http, *extensions_ws;
  // Scope templates, [http, websocket] x [without, with lifespan state]: every key in its place,
  // so a request's scope is one copy of the key table and each value a replacement (no inserts,
  // no resizes: build_scope).
  PyObject* scope_templates[2][2];
  PyObject *websocket_connect, *websocket_accept, *websocket_receive, *websocket_send,
      *websocket_close, *websocket_disconnect, *websocket_http_response_start,
      *websocket_http_response_body;
  PyObject *get_extra_info, *peername, *sockname, *sslcontext, *write, *pause_reading,
      *resume_reading, *close, *is_closing, *create_future, *create_task, *set_result,
      *set_exception, *done, *add, *discard, *call_later, *call_soon, *cancel;
  // keyword names of asyncio.Task(coro, loop=..., context=..., eager_start=True)
  PyObject* task_kwnames;
};

// Initialised by init_names() from the module's init function; never freed (module lifetime).
extern Names names;
void init_names();

// The interned method string for common methods, else a new str. New reference.
PyObject* method_str(std::string_view method);
// Lower-cased header name as bytes: a cached object for common names, else new. New reference.
PyObject* header_name_bytes(std::string_view name);

// True if `obj` equals the interned `name` (pointer check first, then value).
inline bool str_is(PyObject* obj, PyObject* name) {
  if (obj == name) return true;
  return PyUnicode_Check(obj) && PyUnicode_Compare(obj, name) == 0;
}

}  // namespace ruvicorn::py
