#include "h2_protocol.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cycle.hpp"
#include "fast_method.hpp"
#include "h2_stream.hpp"
#include "names.hpp"
#include "pyutil.hpp"
#include "scope.hpp"
#include "websocket.hpp"

namespace ruvicorn::py {

namespace {

// A connection with no stream and nothing read for this long gives back its buffers and pools
// (give_back: http2::Connection::trim and the binding's own); checked by the periodic sweep.
constexpr double kTrimAfter = 1.0;
// A connection that has served this many requests (since it was last idle for kTrimAfter) is
// busy: it keeps what it took (output buffer, streams, arena, lists) from read to read until
// kTrimAfter without a stream or a read, rather than visiting the pools about ten times per
// request. One that served fewer gives back as soon as no stream is left, so an idle
// connection that made one request holds nothing pooled.
constexpr std::uint32_t kBusyAfter = 2;

// RFC 9113 8.2.2: fields an HTTP/1.1 request may carry that mean nothing in HTTP/2 (the h2c
// upgrade request becomes stream 1).
bool connection_specific(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "upgrade") ||
         iequals(name, "http2-settings") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "transfer-encoding") ||
         iequals(name, "te");
}

}  // namespace

H2Protocol::H2Protocol(pb::object context)
    : context_obj_(context),
      ctx_(context.cast<HttpContext*>()),
      transport_(*ctx_),
      conn_(ctx_->limits, ctx_->response, ctx_->ws_enabled && ctx_->run_websocket &&
                                              !ctx_->run_websocket.is_none()) {}

H2Protocol::~H2Protocol() {
  if (ctx_ != nullptr) ctx_->live.erase(this);
}

// --- the handover ----------------------------------------------------------------------------------

void H2Protocol::attach_common(const Transport& from, pb::object self) {
  self_ = std::move(self);
  transport_.adopt(from, self_);
  transport_.use_output(conn_.output());
  ctx_->add_connection(self_);
  ctx_->live.insert(this);
  idle_since_ = last_read_ = monotonic_now();
}

void H2Protocol::take_over(const Transport& from, pb::object self, std::string_view early) {
  attach_common(from, std::move(self));
  conn_.start();
  if (!early.empty()) {
    feed(early);
  } else {
    output_ready();
  }
}

bool H2Protocol::take_over_upgraded(const Transport& from, pb::object self,
                                    const http1::Request& upgraded, std::string_view settings,
                                    std::string_view early) {
  if (conn_.start_upgraded(settings)) return false;
  attach_common(from, std::move(self));
  // Stream 1 is the upgrading request, its body complete (only body-less requests upgrade).
  std::vector<Header> fields;
  fields.reserve(upgraded.head.header_count);
  for (std::size_t i = 0; i < upgraded.head.header_count; ++i) {
    const Header& h = upgraded.head.headers[i];
    if (!connection_specific(h.name)) fields.push_back(h);
  }
  ScopeRequest request;
  request.method = upgraded.head.method;
  request.path = upgraded.path;
  request.query = upgraded.query;
  request.http_version = names.v2;
  request.headers = fields.data();
  request.header_count = fields.size();
  ++ctx_->total_requests;
  take_scratch();
  InFeed in_feed(in_feed_);
  const bool started = ctx_->guard("h2c upgrade", [&] {
    start_cycle(1, request, upgraded.head.method == "HEAD", false, true);
  });
  if (!started) fail_stream(1);
  in_feed.release();
  // Nothing is written before the caller's 101: an eager app's response waits with the rest
  // for the end of the loop iteration.
  upgrading_ = true;
  if (!early.empty()) {
    feed(early);
  } else {
    after_feed();
  }
  upgrading_ = false;
  return true;
}

// --- asyncio.Protocol ------------------------------------------------------------------------------

void H2Protocol::data_received(pb::handle data) {
  if (transport_.closed()) return;
  BytesView view(data.ptr());  // released however feed() leaves
  if (!view.ok()) raise(PyExc_TypeError, "data_received() needs a bytes-like object");
  feed(view.data());
}

bool H2Protocol::eof_received() {
  return false;  // close: an HTTP/2 client that half-closes is gone
}

void H2Protocol::connection_lost(pb::object) {
  if (!self_) return;
  transport_.detach();
  // The apps learn it through http.disconnect (or websocket.disconnect 1006); their tasks keep
  // the cycles alive as long as they need them.
  std::unordered_map<std::uint32_t, Entry> streams;
  streams.swap(streams_);
  for (auto& [id, entry] : streams) stream_lost(entry, "http2 connection_lost");
  pending_.clear();
  deliver_.clear();
  if (!reading_ && !in_feed_) give_back();
  ctx_->live.erase(this);
  ctx_->forget_connection(self_);
  self_ = pb::object();
}

void H2Protocol::pause_writing() {
  transport_.pause_writing();
  conn_.pause_output();
  // A client that does not read gets nothing more read from it either: its PINGs, SETTINGS and
  // new streams would only queue more output.
  transport_.pause_reading();
}

void H2Protocol::resume_writing() {
  transport_.resume_writing();  // writes what was held, releases send()s waiting on the transport
  conn_.resume_output();
  output_ready();
  for (auto& [id, entry] : streams_) entry.stream->window_opened();
  transport_.resume_reading();  // last: if the transport refuses, the streams are awake already
}

void H2Protocol::shutdown() {
  shutting_down_ = true;
  conn_.goaway();
  for (auto& [id, entry] : streams_) {
    if (entry.ws == nullptr) continue;
    ctx_->guard("http2 websocket shutdown", [&] { entry.ws->shutdown(); });  // 1012, as HTTP/1.1
  }
  output_ready();
  close_when_done();
}

void H2Protocol::abort() {
  // The grace period is over: the streams still running are reset, then the connection ends.
  for (auto& [id, entry] : streams_) {
    if (conn_.writable(id)) conn_.reset(id, http2::ErrorCode::kCancel);
  }
  transport_.write_held();
  transport_.abort();
}

void H2Protocol::close() noexcept {
  transport_.write_held();
  transport_.close();
}

void H2Protocol::close_when_done() noexcept {
  if (streams_.empty() && conn_.active_streams() == 0) close();
}

// --- bytes in ----------------------------------------------------------------------------------------

void H2Protocol::feed(std::string_view data) {
  const double now = monotonic_now();
  last_read_ = now;
  trimmed_ = false;
  take_scratch();
  {
    InFeed guard(in_feed_);  // cleared however the core returns
    conn_.feed(data, *this, now);
  }
  after_feed();
}

void H2Protocol::after_feed() {
  // What the core's events asked for, now that the core is not running: the apps start (in
  // stream order, so that eager ones find the body bytes of this read waiting).
  InFeed reading(reading_);  // an app that ends its stream here must not give the lists back
  starting_ = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    // By index, moved out: what runs here (an eager app) must not find a stale reference.
    const Pending p = std::move(pending_[i]);
    ctx_->guard("http2 stream event", [&] {
      Entry* entry = find(p.stream);
      switch (p.kind) {
        case Pending::Kind::kStart:
          if (entry != nullptr) start_app(p.stream, *entry);
          break;
        case Pending::Kind::kError:
          if (entry != nullptr) {
            entry->stream->abort_response(p.error);  // its task ends it; cycle_ended releases
          } else {
            // No app runs for it: the server's own answer is the stream's end, and its slot
            // goes back at once (nothing else would ever release it).
            if (conn_.writable(p.stream)) conn_.error_response(p.stream, p.error);
            conn_.release(p.stream);
          }
          break;
        case Pending::Kind::kWsData:
          if (entry != nullptr && entry->ws != nullptr) {
            if (p.data.empty()) entry->ws->connection_lost();  // END_STREAM: the peer's FIN
            else entry->ws->feed(p.data);
          } else if (!p.data.empty()) {
            conn_.consume(p.stream, p.data.size());  // nobody reads it: credit goes back
          }
          break;
      }
    });
  }
  pending_.clear();
  for (std::uint32_t id : deliver_) {
    Entry* entry = find(id);
    if (entry == nullptr || entry->cycle == nullptr) continue;
    ctx_->guard("http2 receive", [&] { entry->cycle->deliver(); });
  }
  clear_within(pending_, kKeptScratchBytes);
  clear_within(deliver_, kKeptScratchBytes);
  reading.release();
  give_back_unless_busy();
  if (failed_ || conn_.done()) {
    close();
    return;
  }
  output_ready();
  if (shutting_down_ || peer_goaway_) close_when_done();
}

void H2Protocol::take_scratch() {
  BufferPool<std::vector<Pending>>::take(pending_);
  BufferPool<std::vector<std::uint32_t>>::take(deliver_);
}

void H2Protocol::drop_streams_table() {
  if (streams_.empty()) decltype(streams_)().swap(streams_);
}

void H2Protocol::give_scratch() {
  pending_.clear();
  deliver_.clear();
  BufferPool<std::vector<Pending>>::give(pending_, kKeptScratchBytes);
  BufferPool<std::vector<std::uint32_t>>::give(deliver_, kKeptScratchBytes);
}

void H2Protocol::give_back() {
  conn_.trim();
  give_scratch();
  drop_streams_table();
  transport_.keep_output(false);  // the output buffer goes back once written
  trimmed_ = true;
}

void H2Protocol::give_back_unless_busy() {
  if (served_ >= kBusyAfter || in_feed_ || reading_) return;
  if (streams_.empty() && conn_.active_streams() == 0) give_back();
}

H2Protocol::Entry* H2Protocol::find(std::uint32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

// --- core events ---------------------------------------------------------------------------------------

void H2Protocol::on_request(const http2::Request& request) {
  ++ctx_->total_requests;
  if (served_ < kBusyAfter && ++served_ == kBusyAfter) transport_.keep_output(true);
  const bool started = ctx_->guard("http2 on_request", [&] {
    if (ctx_->over_concurrency(starting_)) {
      metrics_error(*ctx_, HttpError{503, {}, true});
      pending_.push_back(Pending{Pending::Kind::kError, request.stream,
                                 {503, "too many concurrent requests", true}, {}});
      return;
    }
    start_stream(request);
  });
  if (!started) {
    // No task runs for it (whatever was set up is dropped): the 500 ends it and frees its slot.
    streams_.erase(request.stream);
    fail_stream(request.stream);
  }
}

void H2Protocol::start_stream(const http2::Request& request) {
  if (request.method == "CONNECT") {
    if (!request.protocol.empty() && iequals(request.protocol, "websocket") &&
        ctx_->ws_enabled && ctx_->run_websocket && !ctx_->run_websocket.is_none()) {
      start_websocket(request);
      return;
    }
    pending_.push_back(Pending{Pending::Kind::kError, request.stream,
                               {400, "CONNECT is not supported", true}, {}});
    return;
  }
  ScopeRequest scope;
  scope.method = request.method;
  scope.path = request.path;
  scope.query = request.query;
  scope.http_version = names.v2;
  scope.headers = request.headers;
  scope.header_count = request.header_count;
  start_cycle(request.stream, scope, request.method == "HEAD", request.expect_continue,
              request.end_stream);
}

void H2Protocol::start_cycle(std::uint32_t id, const ScopeRequest& request, bool head,
                             bool expect_continue, bool end_stream) {
  const std::uint64_t head_ns = metrics_clock(*ctx_);
  PyObject* scope = build_scope(*ctx_, transport_.peer(), request, false);
  if (scope == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope);
  auto stream = std::make_unique<H2Stream>(*this, self_, id, head);
  H2Stream* sink = stream.get();
  auto cycle = std::make_unique<HttpCycle>(*sink, self_, scope_obj, expect_continue);
  cycle->own_sink(std::move(stream));
  HttpCycle* c = cycle.get();
  metrics_request(*ctx_, *c, head_ns, metrics::kHttp2, request.method);
  pb::object obj = pb::cast(std::move(cycle));
  streams_[id] = Entry{obj, c, nullptr, sink};
  if (end_stream) c->end_body();
  pending_.push_back(Pending{Pending::Kind::kStart, id, {}, {}});
  ++starting_;
}

void H2Protocol::start_app(std::uint32_t id, Entry entry) {
  const bool started = ctx_->guard("http2 start", [&] {
    if (entry.cycle != nullptr) {
      ctx_->start_app(ctx_->run_http, entry.cycle->scope, entry.obj, entry.cycle->task);
    } else {
      ctx_->start_app(ctx_->run_websocket, entry.ws->scope, entry.obj, entry.ws->task);
    }
  });
  if (!started) {
    // No task runs for it: the 500 ends it and frees its slot (after_feed, as for on_request).
    streams_.erase(id);
    fail_stream(id);
  }
}

void H2Protocol::fail_stream(std::uint32_t id) {
  pending_.push_back(Pending{Pending::Kind::kError, id, {500, "internal error", true}, {}});
}

void H2Protocol::start_websocket(const http2::Request& request) {
  WsUpgrade upgrade;
  if (HttpError err = ws_check_extended_connect(request.headers, request.header_count,
                                                ws_options_of(*ctx_).deflate, upgrade)) {
    pending_.push_back(Pending{Pending::Kind::kError, request.stream, err, {}});
    return;
  }
  ScopeRequest scope;
  scope.path = request.path;
  scope.query = request.query;
  scope.http_version = names.v2;
  scope.headers = request.headers;
  scope.header_count = request.header_count;
  PyObject* scope_ptr = build_scope(*ctx_, transport_.peer(), scope, true);
  if (scope_ptr == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope_ptr);
  auto stream = std::make_unique<H2Stream>(*this, self_, request.stream, false);
  H2Stream* channel = stream.get();
  auto session = std::make_unique<WsSession>(*channel, self_, upgrade, 1, scope_obj);
  session->own_channel(std::move(stream));
  WsSession* ws = session.get();
  pb::object obj = pb::cast(std::move(session));
  streams_[request.stream] = Entry{obj, nullptr, ws, channel};
  pending_.push_back(Pending{Pending::Kind::kStart, request.stream, {}, {}});
  ++starting_;
}

void H2Protocol::on_data(std::uint32_t stream, std::string_view data) {
  Entry* entry = find(stream);
  const bool taken = ctx_->guard("http2 on_data", [&] {
    if (entry != nullptr && entry->cycle != nullptr) {
      entry->cycle->add_body(data);
      if (deliver_.empty() || deliver_.back() != stream) deliver_.push_back(stream);
    } else {
      // A WebSocket's frames (or bytes for a stream whose app has finished: their credit
      // goes back) are handled once the core is done with this read.
      pending_.push_back(Pending{Pending::Kind::kWsData, stream, {},
                                 std::string(data.data(), data.size())});
    }
  });
  if (!taken) fail_stream(stream);
}

void H2Protocol::on_end(std::uint32_t stream) {
  Entry* entry = find(stream);
  if (entry == nullptr) return;
  if (entry->cycle != nullptr) {
    entry->cycle->end_body();
    if (deliver_.empty() || deliver_.back() != stream) deliver_.push_back(stream);
  } else if (entry->ws != nullptr) {
    pending_.push_back(Pending{Pending::Kind::kWsData, stream, {}, {}});
  }
}

void H2Protocol::on_reset(std::uint32_t stream, http2::ErrorCode) {
  if (Entry* entry = find(stream)) stream_lost(*entry, "http2 on_reset");
}

void H2Protocol::stream_lost(Entry& entry, const char* where) noexcept {
  // A send() waiting for the stream returns (HTTP: a send after a disconnect is a no-op, ASGI
  // 2.3), or raises for a WebSocket (2.4), as a send() made now would.
  pb::object lost;
  if (entry.ws != nullptr) lost = client_disconnected_error(*ctx_, where);  // empty: it returns
  entry.stream->reset(lost.ptr());
  ctx_->guard(where, [&] {
    if (entry.cycle != nullptr) entry.cycle->disconnect();
    if (entry.ws != nullptr) entry.ws->connection_lost();
  });
}

void H2Protocol::on_writable(std::uint32_t stream) {
  if (Entry* entry = find(stream)) entry->stream->window_opened();
}

void H2Protocol::on_goaway(http2::ErrorCode, std::uint32_t) { peer_goaway_ = true; }

void H2Protocol::on_error(const http2::Error& error) {
  failed_ = true;
  metrics_h2_error(*ctx_, static_cast<std::uint32_t>(error.code));
  ctx_->guard("http2 on_error", [&] {
    ctx_->logger.attr("debug")("HTTP/2 connection error %s: %s",
                               std::string(http2::error_code_name(error.code)),
                               std::string(error.reason));
  });
}

// --- output and the streams' ends ------------------------------------------------------------------

void H2Protocol::output_ready() noexcept {
  if (in_feed_) return;  // after_feed() writes
  if (transport_.closed()) {
    recycle(conn_.output(), kBufferPoolBytes);
    return;
  }
  if (conn_.output().empty()) return;
  // Frames queued outside feed() wait for the end of the loop iteration (so the responses of
  // the streams that one read started leave in one write) unless kHoldOutput already waits.
  if (conn_.output().size() < kHoldOutput || transport_.writing_paused() || upgrading_) {
    transport_.hold();
    return;
  }
  // The transport refused the bytes: nothing more can reach this client.
  if (!ctx_->guard("http2 write", [&] { transport_.flush(); })) close();
}

void H2Protocol::stream_finished(std::uint32_t id) noexcept {
  conn_.release(id);
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    pb::object keep = std::move(it->second.obj);  // the caller still holds the cycle
    streams_.erase(it);
  }
  if (streams_.empty()) {
    idle_since_ = monotonic_now();
    give_back_unless_busy();  // not inside a read: after_feed() does it then
  }
  output_ready();
  if (shutting_down_ || peer_goaway_) close_when_done();
}

// --- deadlines -------------------------------------------------------------------------------------------

void H2Protocol::sweep(double now) {
  if (transport_.closed()) return;
  if (conn_.header_block_open()) {
    if (block_since_ == 0) {
      block_since_ = now;
    } else if (now - block_since_ >= ctx_->timeout_request_header) {
      conn_.timeout_header_block();  // a header block that never ends holds the connection
      close();
      return;
    }
  } else {
    block_since_ = 0;
  }
  if (streams_.empty() && conn_.active_streams() == 0) {
    if (now - idle_since_ >= ctx_->timeout_keep_alive) {
      conn_.goaway();
      close();
      return;
    }
    if (now - std::max(idle_since_, last_read_) >= kTrimAfter) {
      // Idle for a while: what the connection keeps for its next burst goes back, and it is
      // not busy until it serves kBusyAfter requests again.
      if (!trimmed_) give_back();
      served_ = 0;
    }
  }
  if (ctx_->h2_keep_alive_interval > 0) {
    if (conn_.ping_outstanding()) {
      if (ctx_->h2_keep_alive_timeout > 0 && now - ping_sent_ >= ctx_->h2_keep_alive_timeout) {
        close();  // the client stopped answering
      }
    } else if (now - last_read_ >= ctx_->h2_keep_alive_interval) {
      conn_.ping();
      ping_sent_ = now;
      output_ready();
    }
  }
}

// --- registration ----------------------------------------------------------------------------------------

void register_http2(pb::module_& m) {
  static PyMethodDef data_received_def = {
      "data_received", fast_callback1<H2Protocol, &H2Protocol::data_received>, METH_O,
      "Bytes read from the connection."};  // once per read: fast_method.hpp
  pb::class_<H2Protocol>(m, "H2Protocol")
      .def_property_readonly(
          "data_received", [](pb::handle self) { return bind_fast_method(data_received_def, self); })
      .def("eof_received", &H2Protocol::eof_received)
      .def("connection_lost", &H2Protocol::connection_lost)
      .def("pause_writing", &H2Protocol::pause_writing)
      .def("resume_writing", &H2Protocol::resume_writing)
      .def("shutdown", &H2Protocol::shutdown)
      .def("abort", &H2Protocol::abort);
}

}  // namespace ruvicorn::py
