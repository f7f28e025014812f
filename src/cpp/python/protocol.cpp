#include "protocol.hpp"

#include <chrono>
#include <vector>

#include "awaitables.hpp"
#include "names.hpp"
#include "scope.hpp"
#include "websocket.hpp"

namespace ruvicorn::py {

double monotonic_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

namespace {

// (host, port) from a socket address as asyncio reports it; None when there is none (UNIX socket).
pb::object host_port(const pb::object& addr) {
  if (PyTuple_Check(addr.ptr()) && PyTuple_GET_SIZE(addr.ptr()) >= 2) {
    return pb::reinterpret_steal<pb::object>(
        PyTuple_Pack(2, PyTuple_GET_ITEM(addr.ptr(), 0), PyTuple_GET_ITEM(addr.ptr(), 1)));
  }
  return pb::none();
}

}  // namespace

// --- HttpProtocol ------------------------------------------------------------------------------

HttpProtocol::HttpProtocol(pb::object context)
    : context_obj_(context),
      ctx_(context.cast<HttpContext*>()),
      conn_(ctx_->limits, ctx_->parser),
      writer_(ctx_->response) {}

HttpProtocol::~HttpProtocol() {
  if (ctx_ != nullptr) ctx_->live.erase(this);
}

void HttpProtocol::connection_made(pb::object transport) {
  transport_ = transport;
  write_ = transport.attr(names.write);
  pause_reading_ = transport.attr(names.pause_reading);
  resume_reading_ = transport.attr(names.resume_reading);
  close_ = transport.attr(names.close);
  pb::object info = transport.attr(names.get_extra_info);
  client_ = host_port(info(pb::handle(names.peername)));
  pb::object sockname = info(pb::handle(names.sockname));
  server_ = host_port(sockname);
  if (server_.is_none() && PyUnicode_Check(sockname.ptr())) {
    server_ = pb::make_tuple(sockname, pb::none());  // UNIX socket: (path, None)
  }
  const bool tls = !info(pb::handle(names.sslcontext)).is_none();
  scheme_ = pb::reinterpret_borrow<pb::object>(tls ? names.scheme_https : names.scheme_http);
  if (ctx_->proxy_trusted && !ctx_->proxy_trusted.is_none()) {
    // Decided once per connection; each request then only looks for the two headers.
    pb::object host = client_.is_none() ? pb::none() : pb::object(client_[pb::int_(0)]);
    const int r = PySequence_Contains(ctx_->proxy_trusted.ptr(), host.ptr());
    if (r < 0) throw pb::error_already_set();
    trusted_proxy_ = r == 1;
  }
  self_ = pb::cast(this, pb::return_value_policy::reference);
  ctx_->connections.attr(names.add)(self_);
  ctx_->live.insert(this);
  head_deadline_ = idle_deadline_ = monotonic_now() + ctx_->timeout_request_header;
}

void HttpProtocol::data_received(pb::handle data) {
  if (closed_) return;
  char* buf = nullptr;
  Py_ssize_t len = 0;
  if (PyBytes_Check(data.ptr())) {
    buf = PyBytes_AS_STRING(data.ptr());
    len = PyBytes_GET_SIZE(data.ptr());
    feed(std::string_view(buf, static_cast<std::size_t>(len)));
  } else {
    Py_buffer view;
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) < 0) throw pb::error_already_set();
    feed(std::string_view(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len)));
    PyBuffer_Release(&view);
  }
}

void HttpProtocol::feed(std::string_view data) {
  if (ws_ != nullptr) {
    ws_->feed(data);
    return;
  }
  conn_.feed(data, *this);
  after_feed();
}

void HttpProtocol::after_feed() {
  if (cycle_ != nullptr) cycle_->deliver();
  if (closed_ || reading_paused_ || transport_.is_none()) return;
  const std::size_t held = conn_.buffered() + (cycle_ != nullptr ? cycle_->unread() : 0);
  if (held > ctx_->limits.high_water) {
    reading_paused_ = true;
    pause_reading_();
  }
}

void HttpProtocol::maybe_resume_reading() {
  if (!reading_paused_ || closed_ || transport_.is_none()) return;
  const std::size_t held = conn_.buffered() + (cycle_ != nullptr ? cycle_->unread() : 0);
  if (held <= ctx_->limits.high_water / 2) {
    reading_paused_ = false;
    resume_reading_();
  }
}

bool HttpProtocol::eof_received() {
  eof_ = true;
  // Close, as uvicorn does: a client's EOF usually means it is gone for good (it cannot be told
  // apart from a half-close), and a parked app must learn that through http.disconnect.
  return false;
}

void HttpProtocol::connection_lost(pb::object) {
  if (closed_) return;
  closed_ = true;
  conn_.close();
  if (cycle_ != nullptr) {
    cycle_->disconnect();
    cycle_ = nullptr;
  }
  cycle_obj_ = pb::object();
  if (ws_ != nullptr) {
    ws_->connection_lost();
    ws_ = nullptr;
  }
  ws_obj_ = pb::object();
  if (drain_waiter_ && !drain_waiter_.attr(names.done)().cast<bool>()) {
    drain_waiter_.attr(names.set_result)(pb::none());
  }
  drain_waiter_ = pb::object();
  ctx_->live.erase(this);
  if (self_) ctx_->connections.attr(names.discard)(self_);
  transport_ = pb::none();
  write_ = pause_reading_ = resume_reading_ = close_ = pb::object();
  self_ = pb::object();
}

void HttpProtocol::pause_writing() { writing_paused_ = true; }

void HttpProtocol::resume_writing() {
  writing_paused_ = false;
  if (!out_.empty()) write_held_output();  // bytes held back while paused (flush_held_output)
  if (drain_waiter_) {
    pb::object waiter = std::move(drain_waiter_);
    drain_waiter_ = pb::object();
    if (!waiter.attr(names.done)().cast<bool>()) waiter.attr(names.set_result)(pb::none());
  }
  if (next_deferred_ && !closed_) next_request();
}

void HttpProtocol::shutdown() {
  shutting_down_ = true;
  if (ws_ != nullptr) {
    ws_->shutdown();
    return;
  }
  if (cycle_ == nullptr) close_transport();
}

void HttpProtocol::abort() {
  if (!transport_.is_none()) transport_.attr("abort")();
}

void HttpProtocol::close_transport() {
  conn_.close();
  if (!transport_.is_none() && close_) close_();
}

pb::object HttpProtocol::make_future() { return ctx_->loop.attr(names.create_future)(); }

void HttpProtocol::flush() {
  if (out_.empty() || closed_ || !write_) {
    out_.clear();
    return;
  }
  PyObject* bytes = PyBytes_FromStringAndSize(out_.data(), static_cast<Py_ssize_t>(out_.size()));
  out_.clear();
  // A large response must not pin its buffer for the rest of a keep-alive connection.
  if (out_.capacity() > ctx_->limits.high_water) std::string().swap(out_);
  if (bytes == nullptr) throw pb::error_already_set();
  write_object(bytes);
  Py_DECREF(bytes);
}

void HttpProtocol::hold_output() {
  if (output_held_ || closed_ || !self_) return;
  ctx_->hold_output(*this);
  output_held_ = true;
}

void HttpProtocol::flush_held_output() {
  output_held_ = false;
  if (!writing_paused_) write_held_output();  // pause_writing() means stop: resume_writing() sends it
}

void HttpProtocol::write_held_output() {
  // Empty in the common case: the response's last piece took everything held along with it.
  if (out_.empty() || closed_ || !write_) return;
  try {
    // Closing since (the client's EOF, an abort): nothing more goes out.
    PyObject* closing = PyObject_CallMethodNoArgs(transport_.ptr(), names.is_closing);
    if (closing == nullptr) throw pb::error_already_set();
    const int is_closing = PyObject_IsTrue(closing);
    Py_DECREF(closing);
    if (is_closing < 0) throw pb::error_already_set();
    if (is_closing == 1) {
      out_.clear();
      return;
    }
    flush();
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("response flush");
    try {
      close_transport();
    } catch (pb::error_already_set&) {
    }
  } catch (...) {
    // A loop callback and resume_writing() must not throw; a C++ failure here loses the bytes.
  }
}

void HttpProtocol::write_object(PyObject* bytes) {
  if (closed_ || !write_) return;
  PyObject* r = PyObject_CallOneArg(write_.ptr(), bytes);
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}

void HttpProtocol::log_exception(const char* where) {
  // An internal failure: log it, never let it escape into the core or the event loop.
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  try {
    pb::object exc = pb::reinterpret_borrow<pb::object>(value ? value : Py_None);
    ctx_->logger.attr("error")(std::string("ruvicorn: internal error in ") + where,
                               pb::arg("exc_info") = exc);
  } catch (...) {
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

void HttpProtocol::on_request(const http1::Request& request) {
  try {
    start_cycle(request);
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("on_request");
    close_transport();
  } catch (...) {
    close_transport();
  }
}

void HttpProtocol::start_cycle(const http1::Request& request) {
  ++ctx_->total_requests;  // ServerState.total_requests reads it (--limit-max-requests)
  if (ctx_->limit_concurrency != 0 &&
      (PySet_GET_SIZE(ctx_->connections.ptr()) > static_cast<Py_ssize_t>(ctx_->limit_concurrency) ||
       PySet_GET_SIZE(ctx_->tasks.ptr()) >= static_cast<Py_ssize_t>(ctx_->limit_concurrency))) {
    send_error_response(HttpError{503, "too many concurrent requests", true});
    return;
  }
  if (request.upgrade_websocket && ctx_->ws_enabled && ctx_->run_websocket &&
      !ctx_->run_websocket.is_none()) {
    start_websocket(request);
    return;
  }
  PyObject* scope = build_scope(*this, request, false);
  if (scope == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope);
  auto cycle = std::make_unique<HttpCycle>(*this, request, scope_obj);
  cycle_ = cycle.get();
  cycle_obj_ = pb::cast(std::move(cycle));
  pb::object coro = ctx_->run_http(ctx_->app, scope_obj, cycle_obj_);
  pb::object task =
      ctx_->reset_contextvars
          ? ctx_->loop.attr(names.create_task)(
                coro, pb::arg("context") = pb::module_::import("contextvars").attr("Context")())
          : ctx_->loop.attr(names.create_task)(coro);
  cycle_->task = task;
  if (PySet_Add(ctx_->tasks.ptr(), task.ptr()) < 0) throw pb::error_already_set();
}

void HttpProtocol::on_body(std::string_view chunk) {
  if (cycle_ == nullptr) return;
  try {
    cycle_->add_body(chunk);
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("on_body");
    close_transport();
  }
}

void HttpProtocol::on_body_end() {
  if (cycle_ != nullptr) cycle_->end_body();
}

void HttpProtocol::on_error(const HttpError& error) {
  try {
    if (cycle_ != nullptr) {
      HttpCycle* cycle = cycle_;
      if (!writer_.started() && !cycle->response_complete()) send_error_response(error);
      cycle->disconnect();
      cycle_ = nullptr;
      cycle_obj_ = pb::object();
      close_transport();
      return;
    }
    send_error_response(error);
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("on_error");
    close_transport();
  }
}

void HttpProtocol::send_error_response(const HttpError& error) {
  out_.clear();
  writer_.error_response(error, out_);
  flush();
  close_transport();
}

void HttpProtocol::response_complete(HttpCycle& cycle) {
  if (ctx_->access_log && !ctx_->access_log.is_none()) {
    try {
      ctx_->access_log(cycle.scope, writer_.status(), writer_.body_bytes());
    } catch (pb::error_already_set& e) {
      e.restore();
      log_exception("access log");
    }
  }
  // An unread request body is not drained: the connection closes instead (no smuggling risk).
  const bool keep_alive = writer_.keep_alive() && !shutting_down_ && !eof_ &&
                          cycle.body_complete() && !closed_;
  writer_.reset();
  if (&cycle == cycle_) {
    cycle_ = nullptr;
    cycle_obj_ = pb::object();  // the app task keeps the cycle alive as long as it needs it
  }
  if (!keep_alive) {
    conn_.response_done(false, *this);
    close_transport();
    return;
  }
  const double now = monotonic_now();
  idle_deadline_ = now + ctx_->timeout_keep_alive;
  head_deadline_ = now + ctx_->timeout_request_header;
  if (writing_paused_) {
    // The client is not reading: start no further pipelined request until the transport drains,
    // so unread responses cannot pile up (resume_writing() continues).
    next_deferred_ = true;
    return;
  }
  next_request();
}

void HttpProtocol::next_request() {
  next_deferred_ = false;
  conn_.response_done(true, *this);
  after_feed();  // hands a pipelined request's body to its app and pauses reading if needed
  maybe_resume_reading();
}

void HttpProtocol::cycle_finished(HttpCycle& cycle) {
  if (cycle.task) {
    if (PySet_Discard(ctx_->tasks.ptr(), cycle.task.ptr()) < 0) PyErr_Clear();
    cycle.task = pb::object();
  }
}

void HttpProtocol::sweep(double now) {
  // No deadline while the app runs or while a slow reader drains earlier responses.
  if (closed_ || cycle_ != nullptr || next_deferred_ || ws_ != nullptr) return;
  if (conn_.buffered() == 0 && now >= idle_deadline_) {
    close_transport();
  } else if (now >= head_deadline_) {
    if (conn_.head_started()) {
      send_error_response(HttpError{408, "no complete request head in time", true});
    } else {
      close_transport();
    }
  }
}

// --- HttpContext: held response output ---------------------------------------------------------

void HttpContext::hold_output(HttpProtocol& protocol) {
  held_outputs.emplace_back(&protocol, protocol.self_handle());
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
    held_outputs[i].first->flush_held_output();
  }
  held_outputs.clear();
}

// --- HttpContext timers ------------------------------------------------------------------------

void HttpContext::sweep() {
  const double now = monotonic_now();

  std::vector<HttpProtocol*> protocols(live.begin(), live.end());
  for (HttpProtocol* p : protocols) {
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
  timer = loop.attr(names.call_later)(0.5, tick_fn);
}

void HttpContext::stop_timers() {
  timers_running = false;
  if (timer && !timer.is_none()) timer.attr(names.cancel)();
  timer = pb::object();
  tick_fn = pb::object();
}

}  // namespace ruvicorn::py
