#include "h3_protocol.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "cycle.hpp"
#include "h3_stream.hpp"
#include "names.hpp"
#include "pyutil.hpp"
#include "scope.hpp"

namespace ruvicorn::py {

namespace {

PyObject* py_u64(std::uint64_t v) { return PyLong_FromUnsignedLongLong(v); }

// Calls `fn(a, b, c)`; steals the three references. Raises on failure.
void call3(const pb::object& fn, PyObject* a, PyObject* b, PyObject* c) {
  if (a == nullptr || b == nullptr || c == nullptr) {
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    throw pb::error_already_set();
  }
  PyObject* args[3] = {a, b, c};
  PyObject* r = PyObject_Vectorcall(fn.ptr(), args, 3, nullptr);
  Py_DECREF(a);
  Py_DECREF(b);
  Py_DECREF(c);
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}

}  // namespace

H3Protocol::H3Protocol(pb::object context, pb::object quic, pb::object glue, pb::object client,
                       pb::object server, bool trusted_proxy)
    : context_obj_(context),
      ctx_(context.cast<HttpContext*>()),
      conn_(ctx_->limits, ctx_->response),
      send_stream_data_(quic.attr("send_stream_data")),
      reset_stream_(quic.attr("reset_stream")),
      stop_stream_(quic.attr("stop_stream")),
      close_(quic.attr("close")),
      schedule_transmit_(glue.attr("schedule_transmit")),
      send_buffered_(glue.attr("send_buffered")),
      resume_reading_(glue.attr("resume_reading")) {
  peer_.client = std::move(client);
  peer_.server = std::move(server);
  peer_.scheme = pb::reinterpret_borrow<pb::object>(names.scheme_https);
  peer_.tls = true;
  peer_.alpn = "h3";
  peer_.trusted_proxy = trusted_proxy;
  ctx_->live.insert(this);
}

H3Protocol::~H3Protocol() {
  if (ctx_ != nullptr) ctx_->live.erase(this);
}

// --- from the glue -------------------------------------------------------------------------------

void H3Protocol::start(std::uint64_t control_stream, pb::object tls_info) {
  if (PyDict_Check(tls_info.ptr())) peer_.tls_info = std::move(tls_info);
  conn_.start(control_stream);
  output_ready();
}

void H3Protocol::stream_data(std::uint64_t id, pb::handle data, bool fin) {
  if (closed_ || closing_) return;
  std::string_view bytes;
  Py_buffer view{};
  bool held = false;
  if (PyBytes_Check(data.ptr())) {
    bytes = bytes_of(data.ptr());
  } else {
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) < 0) throw pb::error_already_set();
    held = true;
    bytes = std::string_view(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
  }
  in_feed_ = true;
  conn_.feed(id, bytes, fin, *this, monotonic_now());
  in_feed_ = false;
  if (held) PyBuffer_Release(&view);
  feed_done();
}

void H3Protocol::stream_reset(std::uint64_t id) { signal(&http3::Connection::stream_reset, id); }

void H3Protocol::stop_sending(std::uint64_t id) { signal(&http3::Connection::stop_sending, id); }

void H3Protocol::signal(void (http3::Connection::*event)(std::uint64_t, http3::Handler&, double),
                        std::uint64_t id) {
  if (closed_ || closing_) return;
  in_feed_ = true;
  (conn_.*event)(id, *this, monotonic_now());
  in_feed_ = false;
  feed_done();
}

void H3Protocol::feed_done() {
  // What the core's events asked for, now that the core is not running: the apps start (an eager
  // one answers through the core at once, and finds the body bytes of this read waiting).
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const Pending p = pending_[i];  // by index, copied: an eager app may run in between
    Entry* entry = find(p.stream);
    if (p.kind == Pending::Kind::kStart) {
      if (entry != nullptr) start_app(p.stream, *entry);
    } else if (entry != nullptr) {
      entry->stream->abort_response(p.error);
    } else {
      // No cycle was started (503, or a failure building or starting it): the core answers and
      // the stream gives its slot back at once.
      conn_.error_response(p.stream, p.error);
      conn_.release(p.stream);
    }
  }
  pending_.clear();
  for (std::uint64_t id : deliver_) {
    Entry* entry = find(id);
    if (entry == nullptr) continue;
    ctx_->guard("http3 receive", [&] { entry->cycle->deliver(); });
  }
  deliver_.clear();
  if (conn_.failed()) {
    const http3::Error& e = conn_.error();
    close_quic(static_cast<std::uint64_t>(e.code), e.reason);
    return;
  }
  output_ready();
  if (shutting_down_) close_when_done();
}

bool H3Protocol::flush() {
  transmit_scheduled_ = false;
  std::vector<http3::Output>& out = conn_.output();
  if (out.empty() || closed_) {
    out.clear();
    return false;
  }
  // By index: a library call may not call back into us, but be safe about growth anyway.
  for (std::size_t i = 0; i < out.size(); ++i) {
    http3::Output& o = out[i];
    try {
      switch (o.kind) {
        case http3::Output::Kind::kData:
          call3(send_stream_data_, py_u64(o.stream),
                PyBytes_FromStringAndSize(o.data.data(), static_cast<Py_ssize_t>(o.data.size())),
                PyBool_FromLong(o.fin));
          break;
        case http3::Output::Kind::kReset:
          reset_stream_(o.stream, o.code);
          break;
        case http3::Output::Kind::kStopSending:
          stop_stream_(o.stream, o.code);
          break;
      }
    } catch (pb::error_already_set&) {
      // The library refuses data or a signal for a stream it has finished with (both
      // directions done), or for a connection that is closing: nothing is lost.
      PyErr_Clear();
    }
  }
  out.clear();
  return true;
}

void H3Protocol::drained() {
  if (watched_.empty()) return;
  std::vector<std::uint64_t> ids;
  ids.swap(watched_);
  for (std::uint64_t id : ids) {
    Entry* entry = find(id);
    if (entry == nullptr) continue;
    entry->stream->drained();
    if (entry->stream->waiting()) watched_.push_back(id);
  }
}

void H3Protocol::connection_lost() {
  if (closed_) return;
  closed_ = true;
  conn_.output().clear();
  // The apps learn it through http.disconnect; their tasks keep the cycles alive as long as they
  // need them.
  std::unordered_map<std::uint64_t, Entry> streams;
  streams.swap(streams_);
  for (auto& [id, entry] : streams) stream_lost(entry, "http3 connection_lost");
  pending_.clear();
  deliver_.clear();
  watched_.clear();
  ctx_->live.erase(this);
}

void H3Protocol::shutdown() {
  if (closed_) return;
  shutting_down_ = true;
  conn_.goaway();
  output_ready();
  close_when_done();
}

void H3Protocol::abort() {
  if (closed_) return;
  // The grace period is over: the streams still running are cancelled, then the connection ends.
  for (auto& [id, entry] : streams_) {
    if (conn_.writable(id)) conn_.reset(id, http3::ErrorCode::kRequestCancelled);
  }
  flush();
  close_quic(static_cast<std::uint64_t>(http3::ErrorCode::kNoError), "server shutting down");
}

bool H3Protocol::over_receive_buffer() {
  if (conn_.unconsumed() <= ctx_->limits.h3_receive_buffer) return false;
  reading_paused_ = true;
  return true;
}

void H3Protocol::maybe_resume() {
  if (!reading_paused_ || conn_.unconsumed() > ctx_->limits.h3_receive_buffer / 2) return;
  reading_paused_ = false;
  ctx_->guard("http3 resume reading", [&] { resume_reading_(); });
}

void H3Protocol::close_quic(std::uint64_t code, std::string_view reason) noexcept {
  if (closing_ || closed_) return;
  closing_ = true;
  ctx_->guard("http3 close", [&] {
    flush();
    close_(pb::arg("error_code") = code, pb::arg("reason_phrase") = std::string(reason));
    transmit_scheduled_ = false;
    output_ready();
  });
}

void H3Protocol::close_when_done() noexcept {
  if (close_pending_ || !streams_.empty() || !conn_.done()) return;
  close_pending_ = true;
  transmit_scheduled_ = false;
  output_ready();
}

void H3Protocol::close_now() noexcept {
  close_quic(static_cast<std::uint64_t>(http3::ErrorCode::kNoError), "");
}

// --- core events ---------------------------------------------------------------------------------

void H3Protocol::on_request(const http3::Request& request) {
  ++ctx_->total_requests;
  const bool ok = ctx_->guard("http3 on_request", [&] {
    if (!ctx_->over_concurrency()) {
      start_cycle(request);
      return;
    }
    metrics_error(*ctx_, HttpError{503, {}, true});
    pending_.push_back({Pending::Kind::kError, request.stream,
                        {503, "too many concurrent requests", true}});
  });
  if (!ok) fail_stream(request.stream);
}

void H3Protocol::start_cycle(const http3::Request& request) {
  const std::uint64_t head_ns = metrics_clock(*ctx_);
  ScopeRequest scope;
  scope.method = request.method;
  scope.path = request.path;
  scope.query = request.query;
  scope.http_version = names.v3;
  scope.headers = request.headers;
  scope.header_count = request.header_count;
  PyObject* scope_ptr = build_scope(*ctx_, peer_, scope, false);
  if (scope_ptr == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope_ptr);
  pb::object self = pb::cast(this, pb::return_value_policy::reference);
  auto stream = std::make_unique<H3Stream>(*this, self, request.stream, request.method == "HEAD");
  H3Stream* sink = stream.get();
  auto cycle = std::make_unique<HttpCycle>(*sink, self, scope_obj, request.expect_continue);
  cycle->own_sink(std::move(stream));
  HttpCycle* c = cycle.get();
  metrics_request(*ctx_, *c, head_ns, metrics::kHttp3, request.method);
  pb::object obj = pb::cast(std::move(cycle));
  streams_[request.stream] = Entry{obj, c, sink};
  if (request.end_stream) c->end_body();
  pending_.push_back({Pending::Kind::kStart, request.stream});
}

void H3Protocol::start_app(std::uint64_t id, Entry entry) {
  const bool ok = ctx_->guard("http3 start", [&] {
    ctx_->start_app(ctx_->run_http, entry.cycle->scope, entry.obj, entry.cycle->task);
  });
  if (ok) return;
  // No task runs for it: the 500 ends it and frees its slot (feed_done, as for on_request).
  streams_.erase(id);
  fail_stream(id);
}

void H3Protocol::fail_stream(std::uint64_t id) {
  pending_.push_back({Pending::Kind::kError, id, {500, "internal error", true}});
}

void H3Protocol::on_data(std::uint64_t stream, std::string_view data) {
  Entry* entry = find(stream);
  if (entry == nullptr) {
    conn_.consume(stream, data.size());  // nobody will read it
    return;
  }
  const bool ok = ctx_->guard("http3 on_data", [&] {
    entry->cycle->add_body(data);
    if (deliver_.empty() || deliver_.back() != stream) deliver_.push_back(stream);
  });
  if (!ok) fail_stream(stream);
}

void H3Protocol::on_end(std::uint64_t stream) {
  Entry* entry = find(stream);
  if (entry == nullptr) return;
  entry->cycle->end_body();
  if (deliver_.empty() || deliver_.back() != stream) deliver_.push_back(stream);
}

void H3Protocol::on_reset(std::uint64_t stream) {
  if (Entry* entry = find(stream)) stream_lost(*entry, "http3 on_reset");
}

void H3Protocol::stream_lost(Entry& entry, const char* where) noexcept {
  entry.stream->reset();  // a send() waiting for the stream returns (ASGI 2.3)
  ctx_->guard(where, [&] { entry.cycle->disconnect(); });
}

void H3Protocol::on_goaway() {}

void H3Protocol::on_error(const http3::Error& error) {
  ctx_->guard("http3 on_error", [&] {
    ctx_->logger.attr("debug")("HTTP/3 connection error %s: %s",
                               std::string(http3::error_code_name(error.code)),
                               std::string(error.reason));
  });
}

// --- output and the streams' ends ----------------------------------------------------------------

void H3Protocol::output_ready() {
  if (in_feed_ || closed_ || transmit_scheduled_) return;
  if (conn_.output().empty() && !closing_ && !close_pending_) return;
  transmit_scheduled_ = true;
  if (!ctx_->guard("http3 transmit", [&] { schedule_transmit_(); })) transmit_scheduled_ = false;
}

std::size_t H3Protocol::send_buffered(std::uint64_t id) {
  return send_buffered_(id).cast<std::size_t>();
}

void H3Protocol::watch(std::uint64_t id) {
  if (std::find(watched_.begin(), watched_.end(), id) == watched_.end()) watched_.push_back(id);
}

void H3Protocol::stream_finished(std::uint64_t id) noexcept {
  conn_.release(id);
  maybe_resume();  // its unread body no longer counts
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    pb::object keep = std::move(it->second.obj);  // the caller still holds the cycle
    streams_.erase(it);
  }
  output_ready();
  if (shutting_down_) close_when_done();
}

H3Protocol::Entry* H3Protocol::find(std::uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

// --- deadlines -----------------------------------------------------------------------------------

void H3Protocol::sweep(double now) {
  if (closed_ || closing_) return;
  conn_.expire_heads(now, ctx_->timeout_request_header);
  output_ready();
}

// --- registration --------------------------------------------------------------------------------

void register_http3(pb::module_& m) {
  pb::class_<H3Protocol>(m, "H3Protocol")
      .def(pb::init<pb::object, pb::object, pb::object, pb::object, pb::object, bool>(),
           pb::arg("context"), pb::arg("quic"), pb::arg("glue"), pb::arg("client"),
           pb::arg("server"), pb::arg("trusted_proxy"))
      .def("start", &H3Protocol::start)
      .def("stream_data", &H3Protocol::stream_data)
      .def("stream_reset", &H3Protocol::stream_reset)
      .def("stop_sending", &H3Protocol::stop_sending)
      .def("flush", &H3Protocol::flush)
      .def("drained", &H3Protocol::drained)
      .def("connection_lost", &H3Protocol::connection_lost)
      .def("shutdown", &H3Protocol::shutdown)
      .def("abort", &H3Protocol::abort)
      .def("over_receive_buffer", &H3Protocol::over_receive_buffer)
      .def_property_readonly("closing", &H3Protocol::closing)
      .def_property_readonly("close_pending", &H3Protocol::close_pending)
      .def("close_now", &H3Protocol::close_now)
      .def_property_readonly("active_streams",
                             [](H3Protocol& p) { return p.conn().active_streams(); });
}

}  // namespace ruvicorn::py
