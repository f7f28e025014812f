#include "awaitables.hpp"

namespace ruvicorn::py {

namespace {

struct ReadyObject {
  PyObject_HEAD
  PyObject* value;  // nullptr: resolves to None
};

PyObject* ready_self(PyObject* self) {
  Py_INCREF(self);
  return self;
}

// Exhausting the iterator at the first step is what makes `await` return immediately.
PyObject* ready_next(PyObject* self) {
  PyObject* value = reinterpret_cast<ReadyObject*>(self)->value;
  if (value != nullptr) {
    // Wrap explicitly so tuple or exception values are not unpacked by PyErr_SetObject.
    PyObject* exc = PyObject_CallOneArg(PyExc_StopIteration, value);
    if (exc != nullptr) {
      PyErr_SetObject(PyExc_StopIteration, exc);
      Py_DECREF(exc);
    }
  }
  return nullptr;
}

PyObject* ready_send(PyObject* self, PyObject*) { return ready_next(self); }

void ready_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<ReadyObject*>(self)->value);
  type->tp_free(self);
  Py_DECREF(type);  // heap type: instances own a reference to it
}

PyMethodDef ready_methods[] = {{"send", ready_send, METH_O, nullptr},
                               {nullptr, nullptr, 0, nullptr}};

PyType_Slot ready_slots[] = {
    {Py_am_await, reinterpret_cast<void*>(ready_self)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(ready_next)},
    {Py_tp_dealloc, reinterpret_cast<void*>(ready_dealloc)},
    {Py_tp_methods, ready_methods},
    {0, nullptr},
};

PyType_Spec ready_spec = {"ruvicorn._core.Ready", sizeof(ReadyObject), 0, Py_TPFLAGS_DEFAULT,
                          ready_slots};

PyTypeObject* ready_type = nullptr;
PyObject* none_singleton = nullptr;

}  // namespace

bool init_awaitables() {
  ready_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&ready_spec));
  if (ready_type == nullptr) return false;
  none_singleton = ready(nullptr);
  return none_singleton != nullptr;
}

PyObject* ready(PyObject* value) {
  ReadyObject* obj = PyObject_New(ReadyObject, ready_type);
  if (obj == nullptr) return nullptr;
  Py_XINCREF(value);
  obj->value = value;
  return reinterpret_cast<PyObject*>(obj);
}

PyObject* ready_none() {
  Py_INCREF(none_singleton);
  return none_singleton;
}

}  // namespace ruvicorn::py
