#include "h2_stream.hpp"

#include <string>

#include "cycle.hpp"
#include "h2_protocol.hpp"
#include "names.hpp"
#include "pyutil.hpp"

namespace ruvicorn::py {

namespace {

// The frames of a large body, written by the core straight into a new bytes object that then
// goes to the transport as is: the body is copied once, with no buffer in between.
class BytesBuffer final : public http2::OutputBuffer {
 public:
  char* allocate(std::size_t n) override {
    PyObject* bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
    if (bytes == nullptr) {
      PyErr_Clear();  // the core writes into its output instead
      return nullptr;
    }
    bytes_ = pb::reinterpret_steal<pb::object>(bytes);
    return PyBytes_AS_STRING(bytes);
  }
  const pb::object& bytes() const { return bytes_; }

 private:
  pb::object bytes_;
};

}  // namespace

H2Stream::H2Stream(H2Protocol& protocol, pb::object owner, std::uint32_t id, bool head_request)
    : StreamSink(protocol, std::move(owner), id, head_request) {}

HttpContext& H2Stream::ctx() const { return protocol_->ctx(); }

http2::Connection& H2Stream::conn() { return protocol_->conn(); }

bool H2Stream::gone() const {
  // The core's writable(id_) without its lookup (called on every send and receive): the core
  // reports every reset of a running stream (on_reset, connection errors included), and this
  // stream knows when its response ended or its app finished.
  return reset_ || ended_ || protocol_->transport().closed();
}

// --- ResponseSink --------------------------------------------------------------------------------

HttpError H2Stream::send_data(std::string_view data, bool end_stream) {
  http2::Connection& conn = protocol_->conn();
  if (data.size() < kLargeBody || !protocol_->writes_now()) return conn.data(id_, data, end_stream);
  BytesBuffer buffer;
  if (HttpError err = conn.data(id_, data, end_stream, buffer)) return err;
  if (buffer.bytes()) protocol_->transport().write(buffer.bytes().ptr());
  return {};
}

pb::object H2Stream::writable() {
  if (gone()) return ready_nothing();
  // send() waits while the transport is paused (the client does not read its socket) or the
  // stream's queue is full (the client's window is shut) until resume_writing() or
  // WINDOW_UPDATEs drain the queue to half (window_opened). On the stream's own waiter, not the
  // transport's: a reset or a lost connection ends the wait as the stream's exchange needs (a
  // WebSocket's send() raises, an HTTP one returns), whatever the other streams are.
  if (protocol_->transport().writing_paused() ||
      protocol_->conn().pending(id_) > ctx().limits.high_water) {
    if (!drain_waiter_) drain_waiter_ = ctx().make_future();
    return drain_waiter_;
  }
  return ready_nothing();
}

void H2Stream::window_opened() noexcept {
  if (!drain_waiter_) return;
  if (!reset_ && (protocol_->transport().writing_paused() ||
                  protocol_->conn().pending(id_) > ctx().limits.high_water / 2)) {
    return;
  }
  release_waiter();
}

void H2Stream::consumed(std::size_t n) {
  if (n == 0 || gone()) return;
  protocol_->conn().consume(id_, n);
  protocol_->output_ready();
}

void H2Stream::response_done(HttpCycle& cycle) {
  metrics_response_done(ctx(), &protocol_->transport(), cycle);
}

void H2Stream::cycle_ended(HttpCycle& cycle) noexcept {
  ctx().task_finished(cycle.task);
  if (!reset_ && !ended_ && !protocol_->transport().closed()) {
    // The app returned without completing its response and nothing answered for it.
    protocol_->conn().reset(id_, http2::ErrorCode::kInternalError);
    protocol_->output_ready();
  }
  ended_ = true;  // released: nothing more goes out on it
  protocol_->stream_finished(id_);
}

// --- WsChannel (RFC 8441) --------------------------------------------------------------------------

void H2Stream::accept(const WsUpgrade& upgrade, std::string_view subprotocol, PyObject* headers) {
  http2::Connection& conn = protocol_->conn();
  if (!subprotocol.empty() && !is_token(subprotocol)) {
    raise(PyExc_RuntimeError, "invalid subprotocol in websocket.accept");
  }
  // The app's fields are checked before the head is begun: a bad one leaves nothing behind.
  for_each_header(headers, "websocket.accept 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    // The extension changes the framing; only the server may negotiate it.
                    if (iequals(name, "sec-websocket-extensions")) {
                      raise(PyExc_RuntimeError,
                            "websocket.accept headers may not set Sec-WebSocket-Extensions");
                    }
                    if (!is_token(name) || !field_value_safe(value)) {
                      raise(PyExc_RuntimeError, "invalid header in websocket.accept");
                    }
                  });
  if (HttpError err = conn.begin_response(id_, 200, false)) raise_app_error("", err);
  if (!subprotocol.empty()) conn.response_field("sec-websocket-protocol", subprotocol);
  if (upgrade.deflate.enabled) {
    std::string extensions;
    upgrade.deflate.append_response_value(extensions);
    conn.response_field("sec-websocket-extensions", extensions);
  }
  for_each_header(headers, "websocket.accept 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    conn.response_field(name, value);
                  });
  if (HttpError err = conn.end_response(false)) raise_app_error("", err);
  started_ = true;
  protocol_->output_ready();
}

void H2Stream::reject(const HttpError& error) {
  if (gone()) return;
  protocol_->conn().error_response(id_, error);
  ended_ = true;
  protocol_->output_ready();
}

ResponseSink& H2Stream::denial(int) { return *this; }

void H2Stream::hold() {
  if (ws_out_.empty() || gone()) {
    ws_out_.clear();
    return;
  }
  protocol_->conn().data(id_, ws_out_, false);
  ws_out_.clear();
  protocol_->output_ready();
}

void H2Stream::flush() {
  hold();
  protocol_->transport().flush();
}

void H2Stream::write(PyObject* bytes) {
  if (gone()) return;
  if (!ws_out_.empty()) hold();  // in order
  send_data(bytes_of(bytes), false);
  protocol_->output_ready();
}

void H2Stream::close() noexcept {
  if (ended_ || gone()) {
    ended_ = true;
    return;
  }
  ended_ = true;
  ctx().guard("http2 websocket close", [&] {
    hold();
    protocol_->conn().data(id_, {}, true);  // END_STREAM: the WebSocket's TCP close (RFC 8441 4)
    protocol_->output_ready();
  });
}

void H2Stream::session_ended() noexcept {
  ended_ = true;
  protocol_->stream_finished(id_);
}

}  // namespace ruvicorn::py
