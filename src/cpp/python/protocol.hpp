// HttpProtocol: the asyncio Protocol that the event loop calls for every HTTP/1.1 connection.
// Bytes go to http1::Connection (the core); its events become HttpCycles (one request at a time,
// this protocol being their ResponseSink) or, after an upgrade, a WsSession (this protocol being
// its WsChannel). Writes and flow control go through the connection's Transport.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "context.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/response.hpp"
#include "sink.hpp"
#include "transport.hpp"
#include "ws_channel.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;
class WsSession;

class HttpProtocol final : public http1::ConnectionHandler,
                           public ResponseSink,
                           public WsChannel,
                           public Sweepable {
 public:
  explicit HttpProtocol(pb::object context);
  ~HttpProtocol() override;

  // asyncio.Protocol
  void connection_made(pb::object transport);
  void data_received(pb::handle data);
  bool eof_received();
  void connection_lost(pb::object exc);
  void pause_writing();
  void resume_writing();
  // Server control: close when idle / after the current response; close now.
  void shutdown();
  void abort();

  // http1::ConnectionHandler (core events). Never throw: failures are logged and the connection
  // closed.
  void on_request(const http1::Request& request) override;
  void on_body(std::string_view chunk) override;
  void on_body_end() override;
  void on_error(const HttpError& error) override;

  // ResponseSink (the current HttpCycle) and WsChannel (the WsSession after an upgrade).
  HttpContext& ctx() const override { return *ctx_; }
  bool gone() const override { return transport_.closed(); }
  void start(int status, PyObject* headers, bool trailers) override;
  HttpError body(PyObject* body, std::string_view data, bool more) override;
  HttpError trailers(PyObject* headers, bool more) override;
  void informational(int status, PyObject* links) override;
  bool complete() const override { return writer_.complete(); }
  pb::object writable() override { return transport_.writable(); }
  void consumed(std::size_t n) override;
  void response_done(HttpCycle& cycle) override;
  void abort_response(const HttpError& error) noexcept override;
  void failed_after_response() noexcept override;
  void cycle_ended(HttpCycle& cycle) noexcept override;

  void accept(const WsUpgrade& upgrade, std::string_view subprotocol, PyObject* headers) override;
  void reject(const HttpError& error) override;
  ResponseSink& denial(int http_minor) override;
  std::string& out() override { return transport_.out(); }
  void hold() override { transport_.hold(); }
  void flush() override { transport_.flush(); }
  void write(PyObject* bytes) override { transport_.write(bytes); }
  void pause_reading() override { transport_.pause_reading(); }
  void resume_reading() override { transport_.resume_reading(); }
  bool reading_paused() const override { return transport_.reading_paused(); }
  void close() noexcept override;

  // Sweepable: the keep-alive and request-head deadlines.
  void sweep(double now) override;

 private:
  friend struct MetricsProbe;  // gauges (metrics.cpp)
  void feed(std::string_view data);
  void start_cycle(const http1::Request& request);
  // Starts the current cycle's app once its body is complete or the read is over, whichever
  // comes first (an eager app then finds the body of this read waiting). Never throws.
  void start_app() noexcept;
  void start_websocket(const http1::Request& request);  // websocket.cpp
  // These never throw (they run from core callbacks and the loop's): failures are logged and
  // the connection closed.
  void after_feed() noexcept;
  void set_reading(bool on) noexcept;  // resume or pause reading; a failure closes
  void maybe_resume_reading() noexcept;
  void next_request() noexcept;  // deliver the next pipelined request, if any
  // Responses completed while a read (or a resumed pipeline) is processed go out in one write
  // at its end (end_batch); never throws.
  void end_batch() noexcept;
  void send_error_response(const HttpError& error);
  template <class Fn>
  void or_close(const char* where, Fn&& fn) noexcept;  // fn; an error is logged and closes
  void after_piece(bool more);  // a body or trailers piece is in the output: hold, or write when large
  void drop_cycle();
  // HTTP/2 (negotiate.cpp): the transport goes to an H2Protocol.
  bool sniff_preface(std::string_view& data);  // false: the bytes went to HTTP/2
  void hand_over_h2(std::string_view early);
  bool upgrade_h2c(const http1::Request& request);  // false: serve it over HTTP/1.1
  void leave_registries();  // the server's connection set and deadline sweep
  // A plain loop (HttpContext::plain_loop) has no sweep: one loop.call_later per connection
  // for its next deadline after `after`, which sweeps it as of that deadline when it fires.
  void arm_deadline(double after) noexcept;
  void cancel_deadline() noexcept;
  void forget_transport();

  pb::object context_obj_;
  HttpContext* ctx_;
  Transport transport_;
  http1::Connection conn_;
  http1::ResponseWriter writer_;
  http1::ResponseContext response_ctx_;  // of the current request
  pb::object self_;         // set on connection_made, cleared on connection_lost
  pb::object cycle_obj_;    // the current request's HttpCycle (empty between requests)
  HttpCycle* cycle_ = nullptr;
  pb::object ws_obj_;       // the WsSession after an upgrade request (bytes go there)
  WsSession* ws_ = nullptr;
  std::string sniffed_;     // the start of a cleartext connection while it may be the preface
  bool sniffing_ = false;   // the HTTP/2 preface is still possible on this connection
  bool shutting_down_ = false;
  bool eof_ = false;
  bool next_deferred_ = false;  // response done while writing was paused
  bool app_pending_ = false;    // cycle_'s app is not started yet (start_app)
  bool batching_ = false;       // inside a read or a resumed pipeline: writes wait for its end
  double idle_deadline_ = 0;    // keep-alive: close if still idle
  double head_deadline_ = 0;    // a complete head must have arrived by then
  pb::object deadline_timer_;   // plain loop: the armed call_later (arm_deadline)
  double armed_for_ = 0;        // the deadline it fires for
};

}  // namespace ruvicorn::py
