#include "protocol.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "cycle.hpp"
#include "names.hpp"
#include "pyutil.hpp"
#include "scope.hpp"
#include "websocket.hpp"

namespace ruvicorn::py {

// Runs fn for a core or loop callback, which must not throw: a Python error is logged as an
// internal error at `where`, and any error closes the connection.
template <class Fn>
void HttpProtocol::or_close(const char* where, Fn&& fn) noexcept {
  if (!ctx_->guard(where, std::forward<Fn>(fn))) close();
}

HttpProtocol::HttpProtocol(pb::object context)
    : context_obj_(context),
      ctx_(context.cast<HttpContext*>()),
      transport_(*ctx_),
      conn_(ctx_->limits, ctx_->parser),
      writer_(ctx_->response) {}

HttpProtocol::~HttpProtocol() {
  cancel_deadline();  // its callback holds `this`
  if (ctx_ != nullptr) ctx_->live.erase(this);
}

// --- asyncio.Protocol --------------------------------------------------------------------------

void HttpProtocol::connection_made(pb::object transport) {
  self_ = pb::cast(this, pb::return_value_policy::reference);
  transport_.attach(transport, self_);
  ctx_->trace(transport_.peer().client, "HTTP connection made");
  ctx_->ensure_timer();  // in case a refused call_later left the deadline sweep unarmed
  if (ctx_->http2) {
    if (transport_.peer().alpn == "h2") {  // RFC 9113 3.2: TLS with ALPN "h2"
      hand_over_h2({});
      return;
    }
    sniffing_ = !transport_.peer().tls;  // prior knowledge is for cleartext only (3.3)
  }
  ctx_->add_connection(self_);
  ctx_->live.insert(this);
  head_deadline_ = idle_deadline_ = monotonic_now() + ctx_->timeout_request_header;
  if (ctx_->plain_loop) arm_deadline(0);
}

void HttpProtocol::data_received(pb::handle data) {
  if (transport_.closed()) return;
  BytesView view(data.ptr());  // bytes without a copy; others released however feed() leaves
  if (!view.ok()) raise(PyExc_TypeError, "data_received() needs a bytes-like object");
  feed(view.data());
}

void HttpProtocol::feed(std::string_view data) {
  if (ws_ != nullptr) {
    ws_->feed(data);
    return;
  }
  if (sniffing_ && !sniff_preface(data)) return;
  batching_ = true;
  conn_.feed(data, *this);
  if (!sniffed_.empty()) std::string().swap(sniffed_);  // held back while it looked like HTTP/2
  after_feed();
  end_batch();
}

void HttpProtocol::end_batch() noexcept {
  batching_ = false;
  // Output another connection held while the loop refused its flush: a hold would have retried.
  if (!ctx_->held_outputs.empty()) ctx_->schedule_flush();
  if (transport_.out().empty()) return;
  or_close("response write", [&] {
    // Written with the other connections' at the end of the iteration, unless large.
    if (transport_.out().size() >= kHoldWhole) {
      transport_.flush();
    } else {
      transport_.hold();
    }
  });
}

void HttpProtocol::after_feed() noexcept {
  // The core closed without an event for us: a drained body that was malformed or too long.
  if (conn_.state() == http1::Connection::State::kClosed) {
    close();
    return;
  }
  // Its body goes on in later reads. (An eager app that answers without reading may let the
  // next pipelined request in, whose app is then pending in turn.)
  while (app_pending_ && !transport_.closed()) start_app();
  if (cycle_ != nullptr) cycle_->deliver();
  if (transport_.closed() || transport_.reading_paused()) return;
  const std::size_t held = conn_.buffered() + (cycle_ != nullptr ? cycle_->unread() : 0);
  if (held > ctx_->limits.high_water) set_reading(false);
}

void HttpProtocol::set_reading(bool on) noexcept {
  try {
    if (on) {
      transport_.resume_reading();
    } else {
      transport_.pause_reading();
    }
  } catch (pb::error_already_set& e) {
    // Reading that cannot stop leaves what the client sends unbounded: the connection ends
    // (and one that cannot resume would hang).
    e.restore();
    ctx_->log_internal_error(on ? "resume_reading" : "pause_reading");
    close();
  }
}

void HttpProtocol::maybe_resume_reading() noexcept {
  if (!transport_.reading_paused() || transport_.closed()) return;
  const std::size_t held = conn_.buffered() + (cycle_ != nullptr ? cycle_->unread() : 0);
  if (held <= ctx_->limits.high_water / 2) set_reading(true);
}

bool HttpProtocol::eof_received() {
  eof_ = true;
  // Close, as uvicorn does: a client's EOF usually means it is gone for good (it cannot be told
  // apart from a half-close), and a parked app must learn that through http.disconnect.
  return false;
}

void HttpProtocol::connection_lost(pb::object) {
  if (transport_.closed() && !self_) return;
  ctx_->trace(transport_.peer().client,
              ws_ != nullptr ? "WebSocket connection lost" : "HTTP connection lost");
  conn_.close();
  // A send() waiting for the drain returns (HTTP: a send after a disconnect is a no-op, ASGI
  // 2.3), or raises for a WebSocket (2.4), as a send() made now would.
  pb::object lost;
  if (ws_ != nullptr) lost = client_disconnected_error(*ctx_, "connection_lost");
  transport_.detach(lost.ptr());
  if (cycle_ != nullptr) cycle_->disconnect();
  drop_cycle();
  if (ws_ != nullptr) {
    ws_->connection_lost();
    ws_ = nullptr;
  }
  ws_obj_ = pb::object();
  cancel_deadline();
  ctx_->live.erase(this);
  if (self_) ctx_->forget_connection(self_);
  self_ = pb::object();
}

void HttpProtocol::pause_writing() { transport_.pause_writing(); }

void HttpProtocol::resume_writing() {
  transport_.resume_writing();
  if (next_deferred_ && !transport_.closed()) next_request();
}

void HttpProtocol::shutdown() {
  shutting_down_ = true;
  if (ws_ != nullptr) {
    ws_->shutdown();
    return;
  }
  if (cycle_ == nullptr) close();
}

void HttpProtocol::abort() { transport_.abort(); }

void HttpProtocol::close() noexcept {
  conn_.close();
  transport_.write_held();  // responses batched in this read go before the close
  transport_.close();
}

void HttpProtocol::drop_cycle() {
  app_pending_ = false;  // a request that failed before its app started: it never will
  cycle_ = nullptr;
  cycle_obj_ = pb::object();  // the app task keeps the cycle alive as long as it needs it
}

// --- core events -------------------------------------------------------------------------------

void HttpProtocol::on_request(const http1::Request& request) {
  or_close("on_request", [&] { start_cycle(request); });
}

void HttpProtocol::start_cycle(const http1::Request& request) {
  const std::uint64_t head_ns = metrics_clock(*ctx_);
  ++ctx_->total_requests;  // ServerState.total_requests reads it (--limit-max-requests)
  if (ctx_->over_concurrency()) {
    metrics_error(*ctx_, HttpError{503, {}, true});
    send_error_response(HttpError{503, "too many concurrent requests", true});
    return;
  }
  // Earlier responses of this read go out before an upgrade's answer takes over the output.
  if (request.upgrade_h2c || request.upgrade_websocket) transport_.flush();
  if (request.upgrade_h2c && upgrade_h2c(request)) return;
  if (request.upgrade_websocket && ctx_->ws_enabled && ctx_->run_websocket &&
      !ctx_->run_websocket.is_none()) {
    start_websocket(request);
    return;
  }
  PyObject* scope = build_scope(*ctx_, transport_.peer(), scope_request(request), false);
  if (scope == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope);
  response_ctx_ = http1::ResponseContext{request.head.http_minor, request.head.method == "HEAD",
                                         request.keep_alive};
  auto cycle = std::make_unique<HttpCycle>(*this, self_, scope_obj, request.expect_continue);
  cycle_ = cycle.get();
  metrics_request(*ctx_, *cycle_, head_ns,
                  request.head.http_minor == 0 ? metrics::kHttp10 : metrics::kHttp11,
                  request.head.method);
  cycle_obj_ = pb::cast(std::move(cycle));
  app_pending_ = true;  // on_body_end or the read's end starts it
}

void HttpProtocol::start_app() noexcept {
  app_pending_ = false;
  or_close("on_request", [&] {
    ctx_->start_app(ctx_->run_http, cycle_->scope, cycle_obj_, cycle_->task);
  });
}

void HttpProtocol::on_body(std::string_view chunk) {
  if (cycle_ == nullptr) return;
  or_close("on_body", [&] { cycle_->add_body(chunk); });
}

void HttpProtocol::on_body_end() {
  if (cycle_ == nullptr) return;
  cycle_->end_body();
  if (app_pending_) start_app();
}

void HttpProtocol::on_error(const HttpError& error) {
  metrics_error(*ctx_, error);
  or_close("on_error", [&] {
    if (cycle_ != nullptr) {
      HttpCycle* cycle = cycle_;
      if (!writer_.started() && !cycle->response_complete()) send_error_response(error);
      cycle->disconnect();
      drop_cycle();
      close();
      return;
    }
    send_error_response(error);
  });
}

void HttpProtocol::send_error_response(const HttpError& error) {
  // Nothing of the current response is in the output (its head is written only once valid):
  // what is there are earlier pipelined responses, which go first.
  std::string& out = transport_.out();
  writer_.reset();
  writer_.error_response(error, out);
  transport_.flush();
  close();
}

// --- ResponseSink ------------------------------------------------------------------------------

void HttpProtocol::start(int status, PyObject* headers, bool trailers) {
  http1::ResponseWriter& w = writer_;
  w.begin(response_ctx_, status);
  try {
    for_each_header(headers, "http.response.start 'headers'",
                    [&](std::string_view name, std::string_view value) {
                      if (HttpError err = w.header(name, value)) {
                        raise(PyExc_RuntimeError,
                              "invalid response header: " + std::string(err.reason));
                      }
                    });
  } catch (...) {
    w.reset();
    throw;
  }
  if (trailers) w.expect_trailers();
  std::string& out = transport_.out();
  const std::size_t before = out.size();
  if (HttpError err = w.end_head(out)) {
    w.reset();
    out.resize(before);
    raise(PyExc_RuntimeError, "invalid response: " + std::string(err.reason));
  }
  // The head stays in the output buffer: it goes out with the first body bytes in one write, or
  // at the end of this loop iteration if the app suspends before its body (long-poll, SSE).
  if (!batching_) transport_.hold();
}

void HttpProtocol::after_piece(bool more) {
  // Complete responses too wait (bounded) for the end of the loop iteration: the responses
  // the connections' reads of one iteration produced then go out back to back, and a client
  // waiting for them is woken once for the burst rather than once per response, which on
  // loopback and in VMs (an IPI per wake-up) cost more than the writes themselves.
  const std::size_t size = transport_.out().size();
  if (size >= kHoldOutput || (!more && !batching_ && size >= kHoldWhole)) {
    transport_.flush();
  } else if (!batching_) {
    transport_.hold();  // inside a batch, end_batch() holds or writes
  }
}

HttpError HttpProtocol::body(PyObject* body, std::string_view data, bool more) {
  std::string& out = transport_.out();
  if (body != nullptr && data.size() >= kLargeBody) {
    // Large bodies go to the transport as the app's own bytes object: framing around it, no copy.
    http1::ResponseWriter::BodyFrame frame;
    HttpError err = writer_.body_frame(data.size(), more, out, frame);
    if (err) return err;
    if (frame.payload) {
      transport_.flush();
      transport_.write(body);
    }
    out.append(frame.suffix, frame.suffix_len);
  } else if (HttpError err = writer_.body(data, more, out)) {
    return err;
  }
  // A streamed piece waits (bounded) for what the app sends next in this step: chunks sent in a
  // row share one write; the end of the loop iteration writes whatever is left.
  after_piece(more);
  return {};
}

HttpError HttpProtocol::trailers(PyObject* headers, bool more) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  for_each_header(headers, "http.response.trailers 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    fields.emplace_back(name, value);
                  });
  std::string& out = transport_.out();
  if (HttpError err = writer_.trailers(fields, more, out)) return err;
  after_piece(more);
  return {};
}

void HttpProtocol::informational(int status, PyObject* links) {
  if (response_ctx_.http_minor == 0) return;  // RFC 9110 15.2: never a 1xx to HTTP/1.0
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  for_each_bytes(links, "http.response.early_hint 'links'",
                 [&](std::string_view link) { fields.emplace_back("link", link); });
  if (HttpError err = http1::ResponseWriter::informational(status, fields, transport_.out())) {
    raise(PyExc_RuntimeError, "invalid early hint: " + std::string(err.reason));
  }
  transport_.flush();  // an interim response is worth nothing late
}

void HttpProtocol::consumed(std::size_t) {
  if (ws_ == nullptr) maybe_resume_reading();
}

void HttpProtocol::response_done(HttpCycle& cycle) {
  metrics_response_done(*ctx_, &transport_, cycle);
  // A request body the app did not read is drained by the core (a little, with the same framing)
  // within the keep-alive deadline (sweep), or the connection closes.
  const bool keep_alive = writer_.keep_alive() && !shutting_down_ && !eof_ && !transport_.closed();
  writer_.reset();
  if (&cycle == cycle_) drop_cycle();
  if (!keep_alive) {
    conn_.response_done(false, *this);
    close();
    return;
  }
  const double now = monotonic_now();
  idle_deadline_ = now + ctx_->timeout_keep_alive;
  head_deadline_ = now + ctx_->timeout_request_header;
  if (ctx_->plain_loop) arm_deadline(0);
  if (transport_.writing_paused()) {
    // The client is not reading: start no further pipelined request until the transport drains,
    // so unread responses cannot pile up (resume_writing() continues). The rest of a request
    // body waits as well: its drain starts with the next request.
    next_deferred_ = true;
    if (conn_.state() == http1::Connection::State::kBody) set_reading(false);
    return;
  }
  next_request();
}

void HttpProtocol::abort_response(const HttpError& error) noexcept {
  or_close("response abort", [&] {
    if (!writer_.started()) {
      send_error_response(error);
    } else {
      transport_.write_held();  // what the app did send reaches the client before the close
      close();
    }
  });
}

void HttpProtocol::failed_after_response() noexcept {
  // As uvicorn: the connection is not reused after an app that misbehaved (a pipelined request
  // already started learns it through http.disconnect).
  transport_.write_held();
  close();
}

void HttpProtocol::cycle_ended(HttpCycle& cycle) noexcept { ctx_->task_finished(cycle.task); }

void HttpProtocol::next_request() noexcept {
  next_deferred_ = false;
  // Inside a read this only lets the core go on to the next request; from a task's send() or
  // resume_writing() it answers what the pipeline holds, as one batch.
  const bool outer = !batching_;
  batching_ = true;
  conn_.response_done(true, *this);  // may drain the rest of a body, or close
  if (conn_.state() == http1::Connection::State::kClosed) {
    close();
  } else {
    if (outer) after_feed();  // a pipelined request's body to its app; pauses reading if needed
    maybe_resume_reading();
  }
  if (outer) end_batch();
}

void HttpProtocol::sweep(double now) {
  // No deadline while the app runs or while a slow reader drains earlier responses.
  if (transport_.closed() || cycle_ != nullptr || next_deferred_ || ws_ != nullptr) return;
  if (conn_.draining()) {
    // The rest of an answered request's body must arrive within --timeout-keep-alive.
    if (now >= idle_deadline_) close();
    return;
  }
  if (conn_.buffered() == 0 && now >= idle_deadline_) {
    close();
  } else if (now >= head_deadline_) {
    if (conn_.head_started()) {
      metrics_error(*ctx_, HttpError{408, {}, true});
      send_error_response(HttpError{408, "no complete request head in time", true});
    } else {
      close();
    }
  }
}

void HttpProtocol::arm_deadline(double after) noexcept {
  cancel_deadline();
  if (transport_.closed()) return;
  double next = std::min(idle_deadline_, head_deadline_);
  if (next <= after) next = std::max(idle_deadline_, head_deadline_);
  if (next <= after) return;
  try {
    pb::object fn = pb::cpp_function([this]() {
      const double deadline = armed_for_;
      deadline_timer_ = pb::object();
      or_close("deadline", [&] { sweep(deadline); });
      if (cycle_ == nullptr && ws_ == nullptr) arm_deadline(deadline);
    });
    deadline_timer_ = ctx_->call_later(next - monotonic_now(), fn.ptr(), "deadline");
    armed_for_ = next;
  } catch (pb::error_already_set& e) {
    e.restore();
    ctx_->log_internal_error("deadline");
  }
}

void HttpProtocol::cancel_deadline() noexcept {
  if (deadline_timer_ && !cancel_handle(deadline_timer_)) ctx_->log_internal_error("deadline");
}

}  // namespace ruvicorn::py
