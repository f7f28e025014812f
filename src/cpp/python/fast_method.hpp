// Per-message and per-read methods (the ASGI receive() and send(), a protocol's data_received)
// as plain CPython functions bound to their pybind11 object, without pybind11's dispatch: it
// costs about 95 ns a call more than METH_O (measured on CPython 3.11), and a request or an echo
// makes two or three such calls.
#pragma once
#include <pybind11/pybind11.h>

#include <exception>
#include <new>

namespace ruvicorn::py {

namespace pb = pybind11;

namespace fast_method_detail {

// The error pybind11 would have raised for what `body` threw; nullptr.
inline PyObject* translate() noexcept {
  try {
    throw;
  } catch (pb::error_already_set& e) {
    e.restore();
  } catch (pb::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
  return nullptr;
}

// `self` is always an instance of T itself: only bind_fast_method makes these functions, from
// the instance's own property.
template <class T>
T* self_of(PyObject* self) {
  auto* inst = reinterpret_cast<pb::detail::instance*>(self);
  return inst->get_value_and_holder().template value_ptr<T>();
}

}  // namespace fast_method_detail

// METH_NOARGS / METH_O trampolines for `pb::object T::method()` / `pb::object T::method(pb::object)`.
template <class T, pb::object (T::*Method)()>
PyObject* fast_method0(PyObject* self, PyObject*) noexcept {
  try {
    return (fast_method_detail::self_of<T>(self)->*Method)().release().ptr();
  } catch (...) {
    return fast_method_detail::translate();
  }
}

template <class T, pb::object (T::*Method)(pb::object)>
PyObject* fast_method1(PyObject* self, PyObject* arg) noexcept {
  try {
    return (fast_method_detail::self_of<T>(self)->*Method)(pb::reinterpret_borrow<pb::object>(arg))
        .release()
        .ptr();
  } catch (...) {
    return fast_method_detail::translate();
  }
}

// METH_O trampoline for `void T::method(pb::handle)` (a protocol callback such as data_received).
template <class T, void (T::*Method)(pb::handle)>
PyObject* fast_callback1(PyObject* self, PyObject* arg) noexcept {
  try {
    (fast_method_detail::self_of<T>(self)->*Method)(pb::handle(arg));
    Py_RETURN_NONE;
  } catch (...) {
    return fast_method_detail::translate();
  }
}

// `def` bound to `self` (a pybind11 instance of T): what `self.name` returns, like a bound method.
inline pb::object bind_fast_method(PyMethodDef& def, pb::handle self) {
  PyObject* fn = PyCFunction_New(&def, self.ptr());
  if (fn == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(fn);
}

}  // namespace ruvicorn::py
