#include "context.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "names.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

double monotonic_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// --- app tasks ---------------------------------------------------------------------------------

pb::object HttpContext::start_task(pb::object coro) {
  pb::object task;
  if (reset_contextvars) {
    // --reset-contextvars: the app starts from an empty context. create_task(context=) is
    // Python 3.11+; before, a task copies the context it is created in, so create it inside.
    pb::object context = pb::module_::import("contextvars").attr("Context")();
#if PY_VERSION_HEX >= 0x030B0000
    task = loop.attr(names.create_task)(coro, pb::arg("context") = context);
#else
    task = context.attr("run")(loop.attr(names.create_task), coro);
#endif
  } else {
    PyObject* t = PyObject_CallMethodOneArg(loop.ptr(), names.create_task, coro.ptr());
    if (t == nullptr) throw pb::error_already_set();
    task = pb::reinterpret_steal<pb::object>(t);
  }
  if (PySet_Add(tasks.ptr(), task.ptr()) < 0) throw pb::error_already_set();
  return task;
}

void HttpContext::task_finished(pb::object& task) {
  if (!task) return;
  if (PySet_Discard(tasks.ptr(), task.ptr()) < 0) PyErr_Clear();
  task = pb::object();
}

pb::object HttpContext::make_future() const {
  PyObject* f = PyObject_CallMethodNoArgs(loop.ptr(), names.create_future);
  if (f == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(f);
}

bool HttpContext::over_concurrency() const {
  if (limit_concurrency == 0) return false;
  const auto limit = static_cast<Py_ssize_t>(limit_concurrency);
  return PySet_GET_SIZE(connections.ptr()) > limit || PySet_GET_SIZE(tasks.ptr()) >= limit;
}

void HttpContext::log_internal_error(const char* where) noexcept {
  // An internal failure: log it, never let it escape into the core or the event loop.
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  try {
    pb::object exc = pb::reinterpret_borrow<pb::object>(value ? value : Py_None);
    logger.attr("error")(std::string("ruvicorn: internal error in ") + where,
                         pb::arg("exc_info") = exc);
  } catch (pb::error_already_set& e) {
    e.discard_as_unraisable(where);
  } catch (...) {
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

// --- held response output ------------------------------------------------------------------------

void HttpContext::hold_output(Transport& transport, const pb::object& owner) {
  held_outputs.emplace_back(&transport, owner);
  if (held_outputs.size() > 1) return;  // this iteration's flush is already scheduled
  if (!flush_outputs_fn) {
    flush_outputs_fn = pb::cpp_function([this]() { flush_held_outputs(); });
  }
  PyObject* handle = PyObject_CallMethodOneArg(loop.ptr(), names.call_soon, flush_outputs_fn.ptr());
  if (handle == nullptr) {
    held_outputs.pop_back();
    throw pb::error_already_set();
  }
  Py_DECREF(handle);
}

void HttpContext::flush_held_outputs() {
  if (held_outputs.empty()) return;
  // Each protocol holds its context: with one of them kept here, `this` outlives the loop.
  pb::object keep = held_outputs.front().second;
  // By index: a write may call back into Python; the vector may grow but nothing is skipped.
  for (std::size_t i = 0; i < held_outputs.size(); ++i) {
    held_outputs[i].first->flush_held();
  }
  held_outputs.clear();
}

// --- timers --------------------------------------------------------------------------------------

void HttpContext::sweep() {
  const double now = monotonic_now();
  std::vector<Sweepable*> protocols(live.begin(), live.end());
  for (Sweepable* p : protocols) {
    if (live.count(p) == 0) continue;
    try {
      p->sweep(now);
    } catch (pb::error_already_set& e) {
      e.discard_as_unraisable("ruvicorn timeout sweep");
    }
  }
}

void HttpContext::start_timers() {
  if (timers_running) return;
  timers_running = true;
  // One periodic sweep per server instead of a timer per connection: deadlines are coarse (0.5 s).
  tick_fn = pb::cpp_function([this]() { tick(); });
  timer = loop.attr(names.call_later)(0.5, tick_fn);
}

void HttpContext::tick() {
  if (!timers_running) return;
  sweep();
  try {
    timer = loop.attr(names.call_later)(0.5, tick_fn);
  } catch (pb::error_already_set& e) {
    // The sweep stops rather than the process: deadlines are then no longer enforced.
    timers_running = false;
    e.restore();
    log_internal_error("timeout sweep (re-arming)");
  }
}

void HttpContext::stop_timers() {
  timers_running = false;
  if (timer && !timer.is_none()) timer.attr(names.cancel)();
  timer = pb::object();
  tick_fn = pb::object();
}

}  // namespace ruvicorn::py
