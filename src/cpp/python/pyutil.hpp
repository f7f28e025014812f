// Small helpers shared by the binding's HTTP and WebSocket code: raising, dict lookups, bytes
// views and ASGI header lists. Header-only; everything here may throw pb::error_already_set.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <utility>

#include "awaitables.hpp"
#include "names.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;

[[noreturn]] inline void raise(PyObject* type, const std::string& text) {
  PyErr_SetString(type, text.c_str());
  throw pb::error_already_set();
}

// Borrowed value, or nullptr when the key is missing (a lookup error is raised).
inline PyObject* dict_get(PyObject* dict, PyObject* key) {
  PyObject* v = PyDict_GetItemWithError(dict, key);
  if (v == nullptr && PyErr_Occurred()) throw pb::error_already_set();
  return v;
}

// The message's "type" for error messages.
inline std::string type_name(PyObject* message) {
  PyObject* t = PyDict_Check(message) ? PyDict_GetItemWithError(message, names.type) : nullptr;
  const char* text = t != nullptr && PyUnicode_Check(t) ? PyUnicode_AsUTF8(t) : nullptr;
  if (text != nullptr) return text;
  PyErr_Clear();  // no type, or one that is no UTF-8 (lone surrogates)
  return "<no type>";
}

// An awaitable that resolves at once to `value` / to None (no Future, no suspension).
inline pb::object ready_object(const pb::object& value) {
  PyObject* r = ready(value.ptr());
  if (r == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(r);
}
inline pb::object ready_nothing() { return pb::reinterpret_steal<pb::object>(ready_none()); }

// asyncio.Future.done() and .set_result(value), through the C API.
inline bool future_done(const pb::object& future) {
  PyObject* r = PyObject_CallMethodNoArgs(future.ptr(), names.done);
  if (r == nullptr) throw pb::error_already_set();
  const bool done = r == Py_True;
  Py_DECREF(r);
  return done;
}
inline void set_result(const pb::object& future, const pb::object& value) {
  PyObject* r = PyObject_CallMethodOneArg(future.ptr(), names.set_result, value.ptr());
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}
inline void set_exception(const pb::object& future, PyObject* error) {
  PyObject* r = PyObject_CallMethodOneArg(future.ptr(), names.set_exception, error);
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}

// Wakes what awaits `waiter` (a send() waiting for the client), `waiter` emptied first: with
// None, or with the exception `error` raised; nothing when it is done already (cancelled).
inline void wake_waiter(pb::object& waiter, PyObject* error = nullptr) {
  if (!waiter) return;
  const pb::object w = std::move(waiter);
  waiter = pb::object();
  if (future_done(w)) return;
  if (error != nullptr) {
    set_exception(w, error);
  } else {
    set_result(w, pb::none());
  }
}

// handle.cancel() (a loop's TimerHandle, a Future) through the C API, `handle` emptied first;
// false, with the Python error set, if cancel() raised.
inline bool cancel_handle(pb::object& handle) noexcept {
  const pb::object h = std::move(handle);
  handle = pb::object();
  PyObject* r = PyObject_CallMethodNoArgs(h.ptr(), names.cancel);
  Py_XDECREF(r);
  return r != nullptr;
}

inline std::string_view bytes_of(PyObject* b) {
  return {PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b))};
}

// A bytes-like object's contents (bytes, bytearray, memoryview), held for this object's lifetime.
class BytesView {
 public:
  explicit BytesView(PyObject* obj) {
    if (PyBytes_Check(obj)) {
      data_ = bytes_of(obj);
      ok_ = true;
      return;
    }
    if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj)) return;
    if (PyObject_GetBuffer(obj, &view_, PyBUF_SIMPLE) < 0) throw pb::error_already_set();
    held_ = true;
    data_ = {static_cast<const char*>(view_.buf), static_cast<std::size_t>(view_.len)};
    ok_ = true;
  }
  ~BytesView() {
    if (held_) PyBuffer_Release(&view_);
  }
  BytesView(const BytesView&) = delete;
  BytesView& operator=(const BytesView&) = delete;
  bool ok() const { return ok_; }
  std::string_view data() const { return data_; }

 private:
  std::string_view data_;
  Py_buffer view_{};
  bool held_ = false;
  bool ok_ = false;
};

// Calls fn(name, value) for every (name, value) pair of an ASGI "headers" iterable of bytes.
// `what` names the message field in the TypeError raised for a malformed list.
template <class Fn>
void for_each_header(PyObject* headers, const char* what, Fn&& fn) {
  if (headers == nullptr || headers == Py_None) return;
  PyObject* seq = PySequence_Fast(headers, what);
  if (seq == nullptr) throw pb::error_already_set();
  pb::object owner = pb::reinterpret_steal<pb::object>(seq);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = PySequence_Fast_GET_ITEM(seq, i);
    PyObject *name, *value;
    if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {  // the common case, no copy
      name = PyTuple_GET_ITEM(pair, 0);
      value = PyTuple_GET_ITEM(pair, 1);
    } else if (PyList_Check(pair) && PyList_GET_SIZE(pair) == 2) {
      name = PyList_GET_ITEM(pair, 0);
      value = PyList_GET_ITEM(pair, 1);
    } else {
      raise(PyExc_TypeError, std::string(what) + ": each header must be a (name, value) pair");
    }
    if (!PyBytes_Check(name) || !PyBytes_Check(value)) {
      raise(PyExc_TypeError, std::string(what) + ": header names and values must be bytes");
    }
    fn(bytes_of(name), bytes_of(value));
  }
}

// Calls fn(bytes) for every item of an iterable of bytes objects (e.g. early-hint links).
template <class Fn>
void for_each_bytes(PyObject* items, const char* what, Fn&& fn) {
  if (items == nullptr || items == Py_None) return;
  PyObject* seq = PySequence_Fast(items, what);
  if (seq == nullptr) throw pb::error_already_set();
  pb::object owner = pb::reinterpret_steal<pb::object>(seq);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyBytes_Check(item)) raise(PyExc_TypeError, std::string(what) + ": items must be bytes");
    fn(bytes_of(item));
  }
}

}  // namespace ruvicorn::py
