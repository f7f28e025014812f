// An awaitable whose result is already known: `await` on it completes at once, without a Future
// and without suspending the task (the common case for send() and receive()).
#pragma once
#include <Python.h>

namespace ruvicorn::py {

// Registers the type; call once at module init. Returns false with a Python error set on failure.
bool init_awaitables();
// A new awaitable that resolves to `value` (borrowed; a reference is taken). New reference.
PyObject* ready(PyObject* value);
// A shared awaitable resolving to None. New reference.
PyObject* ready_none();

}  // namespace ruvicorn::py
