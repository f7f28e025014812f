#include "tls_info.hpp"

#include "transport.hpp"

namespace ruvicorn::py {

pb::object tls_extension(HttpContext& ctx, const pb::object& get_extra_info) noexcept {
  if (!ctx.tls_extension || ctx.tls_extension.is_none()) return {};
  PyObject* ssl_object = PyObject_CallFunction(get_extra_info.ptr(), "s", "ssl_object");
  PyObject* tls = nullptr;
  if (ssl_object != nullptr && ssl_object != Py_None) {
    tls = PyObject_CallOneArg(ctx.tls_extension.ptr(), ssl_object);
  }
  Py_XDECREF(ssl_object);
  if (tls == nullptr) {
    if (PyErr_Occurred()) ctx.log_internal_error("tls extension");
    return {};
  }
  if (!PyDict_Check(tls)) {
    Py_DECREF(tls);
    return {};
  }
  return pb::reinterpret_steal<pb::object>(tls);
}

PyObject* scope_extensions(const PeerInfo& peer, PyObject* base) {
  PyObject* extensions = PyDict_Copy(base);
  if (extensions == nullptr || !peer.tls_info) return extensions;
  // A copy per scope: an app that edits its scope does not change the connection's next one.
  PyObject* tls = PyDict_Copy(peer.tls_info.ptr());
  if (tls == nullptr || PyDict_SetItemString(extensions, "tls", tls) < 0) {
    Py_XDECREF(tls);
    Py_DECREF(extensions);
    return nullptr;
  }
  Py_DECREF(tls);
  return extensions;
}

}  // namespace ruvicorn::py
