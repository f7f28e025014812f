// WsSession: one WebSocket as the ASGI app sees it (receive() and send()), over the core's
// WsReader/WsWriter and a WsChannel: the HTTP/1.1 connection that upgraded, or an HTTP/2 stream
// (RFC 8441). The channel's owner hands it the bytes and tells it when the channel goes away.
#pragma once
#include <pybind11/pybind11.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "context.hpp"
#include "ws_channel.hpp"
#include "ruvicorn/websocket.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class ResponseSink;

// Per-server WebSocket options beyond Limits, set once by ruvicorn.protocols from Config
// (HttpContext::ws_options holds one of these).
struct WsOptions {
  WsDeflateOptions deflate;    // --ws-per-message-deflate
  double ping_interval = 20;   // --ws-ping-interval; <= 0: no keepalive pings
  double ping_timeout = 20;    // --ws-ping-timeout; <= 0: wait for pongs forever
  double close_timeout = 10;   // how long to wait for the peer's close frame after ours
  pb::object log;              // callable(scope, outcome) for "[accepted]"/"403" lines, or None
};

class WsSession final : public WsHandler {
 public:
  // `owner` keeps the channel alive while the app holds this session.
  WsSession(WsChannel& channel, pb::object owner, const WsUpgrade& upgrade, int http_minor,
            pb::object scope);
  ~WsSession() override;
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // ASGI callables.
  pb::object receive();
  pb::object send(pb::object message);
  // Called by ruvicorn.protocols.run_asgi when the app returns, raises or returns a value other
  // than None (its bug: after the accept the connection is dropped, as uvicorn does).
  void app_returned();
  void app_failed();
  void app_returned_value();
  void tick();  // the session's one timer: keepalive pings, pong and close deadlines
  void denial_due() noexcept;  // end of the loop iteration after websocket.http.response.start

  // From the channel's owner.
  void feed(std::string_view data);
  void connection_lost();
  void shutdown();  // graceful server shutdown: 1012 (or 500 before the handshake)

  // WsHandler (core events); they never throw.
  void on_message(WsOpcode opcode, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(int code, std::string_view reason) override;
  void on_error(const WsError& error) override;
  bool paused() const override {
    return queue_.size() >= max_queue_ || queued_bytes_ >= max_queue_bytes_;
  }

  // An HTTP/2 stream channel belongs to its session (the app may hold the session longer).
  void own_channel(std::unique_ptr<WsChannel> channel) { owned_channel_ = std::move(channel); }

  pb::object task;
  pb::object scope;

 private:
  enum class Phase {
    kHandshake,  // waiting for the app's accept, close or denial response
    kResponse,   // sending a denial response (websocket.http.response.*)
    kOpen,       // accepted: frames flow both ways
    kDone,       // the app sent close (or was rejected): nothing more from it
  };

  pb::object send_accept(PyObject* message);
  pb::object send_reject_start(PyObject* message);
  void start_denial(std::size_t body_size, bool whole);  // the held denial head goes out
  void end_denial();  // the app ended without finishing its denial
  pb::object send_reject_body(PyObject* message);
  pb::object send_data(PyObject* message);
  pb::object send_close(PyObject* message);
  pb::object after_write();
  void write_frame(const WsFrameOut& frame);
  // Data frames are held in the channel's output buffer (WsChannel::hold) and written at the
  // end of the loop iteration with what the other sessions sent in it, or at once when more
  // than kHoldOutput would wait, or for a lone frame of kHoldWhole or more; a control frame or
  // close writes what is held first.
  void write_data_frame(const WsFrameOut& frame);
  static void append_frame(std::string& out, const WsFrameOut& frame);
  void flush_held();  // writes the frames held in the channel's output buffer
  void start_close(int code, std::string_view reason);  // close frame, then wait for the peer's
  void fail(int code, std::string_view reason);         // close frame, then close at once
  void reject(int status, std::string_view reason);     // HTTP error response before accept
  void close_transport() noexcept;
  template <class Fn>
  void or_close(const char* where, Fn&& fn) noexcept;  // fn; a failure is logged and closes
  void drop() noexcept;  // ends the connection without a close frame (the client sees 1006)
  // What the app's receive() reports once the queue is empty. The reason is there only when a
  // close frame carried one (received, or sent by us), as in uvicorn.
  void disconnect(int code);
  void disconnect(int code, std::string_view reason);
  void deliver();                                       // resolve a waiting receive()
  pb::object take_message();                            // the queue's head, else the disconnect
  void push(pb::object message, std::size_t bytes);
  std::size_t read_frames(std::string_view data);
  void feed_unread();
  void pause_reading();
  void maybe_resume_reading();
  void schedule();
  void finished();  // the app task ended
  bool transport_gone() const;

  WsChannel* channel_;
  std::unique_ptr<WsChannel> owned_channel_;
  pb::object owner_;         // keeps the channel alive while the app holds this session
  ResponseSink* denial_ = nullptr;  // the app's denial response (websocket.http.response.*)
  // Its head, held until the first body message: a body sent whole gets a Content-Length.
  int denial_status_ = 0;
  pb::object denial_headers_;
  const WsOptions& options_;
  WsUpgrade upgrade_;        // accept value and negotiated deflate (views cleared)
  int http_minor_;
  Phase phase_ = Phase::kHandshake;
  std::unique_ptr<WsReader> reader_;
  std::unique_ptr<WsWriter> writer_;
  // Bytes received but not read as frames yet: before the app accepted, or after the reader
  // stopped at a full queue (paused()). Reading is paused while any are left, so this holds at
  // most one read beyond the limits, never the messages in it.
  std::string unread_;
  std::size_t unread_pos_ = 0;
  bool feeding_ = false;     // inside reader_->feed (which must not be re-entered)

  struct Queued {
    pb::object message;
    std::size_t bytes;  // its payload
  };
  std::deque<Queued> queue_;  // messages the app has not received yet
  std::size_t queued_bytes_ = 0;
  std::size_t max_queue_;
  std::size_t max_queue_bytes_;
  pb::object receive_waiter_;
  bool connect_delivered_ = false;
  bool disconnected_ = false;     // the app's next receive() (after the queue) is a disconnect
  int disconnect_code_ = WsClose::kAbnormal;
  std::string disconnect_reason_;
  bool disconnect_has_reason_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  bool transport_closing_ = false;  // we asked the transport to close (or it is lost)

  pb::object timer_;              // TimerHandle of the next tick (or empty)
  double timer_at_ = 0;
  double next_ping_ = 0;          // when to send the next keepalive ping (0: never)
  double pong_deadline_ = 0;      // a pong must have arrived by then (0: none expected)
  double close_deadline_ = 0;     // the peer's close must have arrived by then
};

// The session's options (WsOptions in HttpContext::ws_options, or the defaults).
const WsOptions& ws_options_of(const HttpContext& ctx);

// A new ruvicorn._core.ClientDisconnected for a send() waiting when the client leaves; empty
// if it cannot be made (the failure is logged as an internal error of `where`).
pb::object client_disconnected_error(HttpContext& ctx, const char* where) noexcept;

// Registers WsSession, WsOptions, ClientDisconnected and the ws_unmask/utf8_valid helpers.
void register_websocket(pb::module_& m);

}  // namespace ruvicorn::py
