#include "context.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "names.hpp"
#include "pyutil.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace {
constexpr int kTraceLevel = 5;  // ruvicorn.logging.TRACE_LOG_LEVEL (uvicorn's)
}  // namespace

double monotonic_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// --- app tasks ---------------------------------------------------------------------------------

namespace {

#if PY_VERSION_HEX >= 0x030C0000
// A KeyboardInterrupt or SystemExit is pending, from an eager app's first step (run_asgi lets
// them through): handed to the loop, raised again from a callback, so that it stops the loop as
// it would have from the task's own step. A connection callback must not swallow it. False:
// another exception is pending (or the loop refused: it goes up as it is).
bool hand_to_loop(const pb::object& loop, const pb::object& reraise_fn) {
  if (!reraise_fn || !(PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
                       PyErr_ExceptionMatches(PyExc_SystemExit))) {
    return false;
  }
  PyObject* exc = PyErr_GetRaisedException();
  PyObject* handle =
      PyObject_CallMethodObjArgs(loop.ptr(), names.call_soon, reraise_fn.ptr(), exc, nullptr);
  if (handle == nullptr) {
    Py_DECREF(exc);
    return false;
  }
  Py_DECREF(handle);
  Py_DECREF(exc);
  return true;
}
#endif

}  // namespace

void HttpContext::start_app(const pb::object& run, const pb::object& scope, pb::object exchange,
                            pb::object& task) {
  pb::object coro = pb::reinterpret_steal<pb::object>(
      PyObject_CallFunctionObjArgs(run.ptr(), app.ptr(), scope.ptr(), exchange.ptr(), nullptr));
  if (!coro) throw pb::error_already_set();
  PyObject* context = reset_contextvars ? PyContext_New()
                      : base_context && !base_context.is_none()
                          ? PyContext_Copy(base_context.ptr())
                          : PyContext_CopyCurrent();
  if (context == nullptr) throw pb::error_already_set();
  pb::object context_obj = pb::reinterpret_steal<pb::object>(context);
  PyObject* t = nullptr;
#if PY_VERSION_HEX >= 0x030C0000
  if (eager_task_type && !eager_task_type.is_none()) {
    // asyncio.Task(coro, loop=loop, context=context, eager_start=True): the app runs now.
    PyObject* args[] = {coro.ptr(), loop.ptr(), context, Py_True};
    t = PyObject_Vectorcall(eager_task_type.ptr(), args, 1, names.task_kwnames);
    if (t == nullptr) {
      if (hand_to_loop(loop, reraise_fn)) return;  // the app's task is over
      throw pb::error_already_set();
    }
  }
#endif
  if (t == nullptr) {
    // A task copies the context current at its creation (create_task(context=) is 3.11+): any
    // loop, any task factory, any Python version.
    if (PyContext_Enter(context) < 0) throw pb::error_already_set();
    t = PyObject_CallMethodOneArg(loop.ptr(), names.create_task, coro.ptr());
    if (PyContext_Exit(context) < 0) Py_CLEAR(t);
    if (t == nullptr) throw pb::error_already_set();
  }
  pb::object started = pb::reinterpret_steal<pb::object>(t);
  // Finished in its first step (eager start, or an eager task factory): nothing to track. (A
  // plain loop's task need not be a future.)
  if (!plain_loop && future_done(started)) return;
  if (PySet_Add(tasks.ptr(), t) < 0) throw pb::error_already_set();
  task = std::move(started);
}

void HttpContext::task_finished(pb::object& task) {
  if (!task) return;
  if (PySet_Discard(tasks.ptr(), task.ptr()) < 0) PyErr_Clear();
  task = pb::object();
}

pb::object HttpContext::event_loop() const {
  if (!plain_loop) return loop;
  if (!get_running_loop) {
    get_running_loop = pb::module_::import("asyncio").attr("get_running_loop");
  }
  PyObject* running = PyObject_CallNoArgs(get_running_loop.ptr());
  if (running == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(running);
}

pb::object HttpContext::make_future() const {
  PyObject* f = PyObject_CallMethodNoArgs(event_loop().ptr(), names.create_future);
  if (f == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(f);
}

void HttpContext::add_connection(const pb::object& protocol) {
  if (PySet_Add(connections.ptr(), protocol.ptr()) < 0) throw pb::error_already_set();
}

void HttpContext::forget_connection(const pb::object& protocol) noexcept {
  if (PySet_Discard(connections.ptr(), protocol.ptr()) < 0) log_internal_error("connections");
}

bool HttpContext::over_concurrency(std::size_t starting) const {
  if (limit_concurrency == 0) return false;
  const auto limit = static_cast<Py_ssize_t>(limit_concurrency);
  return PySet_GET_SIZE(connections.ptr()) > limit ||
         PySet_GET_SIZE(tasks.ptr()) + static_cast<Py_ssize_t>(starting) >= limit;
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

// --- scheduling ----------------------------------------------------------------------------------

pb::object HttpContext::call_soon(PyObject* fn, const char* where) noexcept {
  PyObject* handle;
  try {
    handle = PyObject_CallMethodOneArg(event_loop().ptr(), names.call_soon, fn);
  } catch (pb::error_already_set& e) {
    e.restore();  // no running loop
    handle = nullptr;
  }
  if (handle == nullptr) {
    log_internal_error(where);
    return pb::object();
  }
  return pb::reinterpret_steal<pb::object>(handle);
}

pb::object HttpContext::call_later(double delay, PyObject* fn, const char* where) noexcept {
  PyObject* d = PyFloat_FromDouble(delay);
  PyObject* handle =
      d == nullptr ? nullptr : PyObject_CallMethodObjArgs(loop.ptr(), names.call_later, d, fn, nullptr);
  Py_XDECREF(d);
  if (handle == nullptr) {
    log_internal_error(where);
    return pb::object();
  }
  return pb::reinterpret_steal<pb::object>(handle);
}

void HttpContext::trace(const pb::object& client, const char* what) noexcept {
  if (!trace_log || !logger) return;
  PyObject* r;
  if (client && PyTuple_Check(client.ptr()) && PyTuple_GET_SIZE(client.ptr()) == 2) {
    r = PyObject_CallMethod(logger.ptr(), "log", "isOOs", kTraceLevel, "%s:%d - %s",
                            PyTuple_GET_ITEM(client.ptr(), 0), PyTuple_GET_ITEM(client.ptr(), 1),
                            what);
  } else {
    r = PyObject_CallMethod(logger.ptr(), "log", "is", kTraceLevel, what);
  }
  if (r == nullptr) {
    PyErr_Clear();  // a log line is not worth failing a connection for
    return;
  }
  Py_DECREF(r);
}

// --- held response output ------------------------------------------------------------------------

void HttpContext::hold_output(Transport& transport, const pb::object& owner) noexcept {
  if (plain_loop) {
    transport.flush_held();  // no end of the loop iteration to wait for
    return;
  }
  try {
    held_outputs.emplace_back(&transport, owner);
  } catch (...) {
    transport.flush_held();  // no room to remember it: write now rather than lose it
    return;
  }
  schedule_flush();
  // The loop refused the callback: what is held goes out now rather than wait for a retry
  // (complete responses are held too, and their clients wait for them).
  if (!flush_scheduled) flush_held_outputs();
}

void HttpContext::schedule_flush() noexcept {
  if (flush_scheduled) return;  // this iteration's flush is already scheduled
  if (!flush_outputs_fn) {
    try {
      flush_outputs_fn = pb::cpp_function([this]() { flush_held_outputs(); });
    } catch (pb::error_already_set& e) {
      e.restore();
      log_internal_error("held output");
      return;
    } catch (...) {
      return;
    }
  }
  // Refused: the entries stay listed (hold_output then writes them at once; the sweep retries).
  flush_scheduled = static_cast<bool>(call_soon(flush_outputs_fn.ptr(), "held output"));
}

void HttpContext::flush_held_outputs() noexcept {
  flush_scheduled = false;
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

namespace {
constexpr double kSweepInterval = 0.5;  // deadlines are coarse: one sweep per server
}  // namespace

void HttpContext::sweep() noexcept {
  const double now = monotonic_now();
  std::vector<Sweepable*> protocols;
  try {
    protocols.assign(live.begin(), live.end());
  } catch (...) {
    return;  // no memory for the list: the next tick tries again
  }
  for (Sweepable* p : protocols) {
    if (live.count(p) == 0) continue;
    try {
      p->sweep(now);
    } catch (pb::error_already_set& e) {
      e.restore();
      log_internal_error("timeout sweep");
    } catch (...) {
    }
  }
}

void HttpContext::start_timers() {
  if (timers_running) return;
  // One periodic sweep per server instead of a timer per connection.
  tick_fn = pb::cpp_function([this]() { tick(); });
  timer = loop.attr(names.call_later)(kSweepInterval, tick_fn);
  timers_running = true;
}

void HttpContext::tick() noexcept {
  timer = pb::object();
  if (!timers_running) return;
  sweep();
  if (!sweep_while_idle && live.empty()) return;  // connection_made() re-arms it
  // Output a refused call_soon left behind goes out now.
  if (!flush_scheduled && !held_outputs.empty()) flush_held_outputs();
  ensure_timer();
}

void HttpContext::ensure_timer() noexcept {
  if (!timers_running || timer || !tick_fn) return;
  // Refused: deadlines wait until the next connection or held output tries again.
  timer = call_later(kSweepInterval, tick_fn.ptr(), "timeout sweep (re-arming)");
}

void HttpContext::stop_timers() {
  timers_running = false;
  if (timer && !timer.is_none()) timer.attr(names.cancel)();
  timer = pb::object();
  tick_fn = pb::object();
}

}  // namespace ruvicorn::py
