// The asyncio Protocol that the event loop calls for every HTTP connection, and the per-request
// cycle that gives the ASGI app its receive() and send(). Bytes go to ruvicorn::Connection (the
// core); its events become scope dicts and messages here, once.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "context.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/response.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;
class WsSession;

class HttpProtocol final : public http1::ConnectionHandler {
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

  // ConnectionHandler (core events). Never throw: failures are logged and the connection closed.
  void on_request(const http1::Request& request) override;
  void on_body(std::string_view chunk) override;
  void on_body_end() override;
  void on_error(const HttpError& error) override;

  // Used by HttpCycle.
  HttpContext& ctx() { return *ctx_; }
  http1::ResponseWriter& writer() { return writer_; }
  std::string& out() { return out_; }
  void flush();                          // write out_ to the transport
  void hold_output();                    // out_ holds response bytes: write them this iteration
  void flush_held_output();              // from HttpContext::flush_held_outputs(); never throws
  void write_held_output();              // write out_ now unless the transport is closing; no throw
  void write_object(PyObject* bytes);    // write a bytes object as is
  void response_complete(HttpCycle& cycle);
  void cycle_finished(HttpCycle& cycle); // the app task ended
  void send_error_response(const HttpError& error);
  void close_transport();
  void maybe_resume_reading();
  bool closed() const { return closed_; }
  bool writing_paused() const { return writing_paused_; }
  pb::object& self_handle() { return self_; }
  pb::object make_future();
  void sweep(double now);

  pb::object client_, server_, scheme_;  // per connection, shared by the scopes
  bool trusted_proxy_ = false;           // the peer may set X-Forwarded-For/-Proto

 private:
  void feed(std::string_view data);
  void log_exception(const char* where);
  void start_cycle(const http1::Request& request);
  void start_websocket(const http1::Request& request);  // websocket.cpp
  void after_feed();
  void next_request();  // deliver the next pipelined request, if any

  pb::object context_obj_;
  HttpContext* ctx_;
  http1::Connection conn_;
  http1::ResponseWriter writer_;
  std::string out_;
  pb::object self_;         // weak in spirit: set on connection_made, cleared on connection_lost
  pb::object transport_;
  pb::object write_, pause_reading_, resume_reading_, close_;
  pb::object cycle_obj_;    // the current request's HttpCycle (nullptr between requests)
  HttpCycle* cycle_ = nullptr;
  pb::object drain_waiter_; // Future resolved on resume_writing
  pb::object ws_obj_;       // the WsSession after an upgrade request (bytes go there)
  WsSession* ws_ = nullptr;
  bool closed_ = false;
  bool reading_paused_ = false;
  bool writing_paused_ = false;
  bool shutting_down_ = false;
  bool eof_ = false;
  bool next_deferred_ = false;  // response done while writing was paused
  bool output_held_ = false;    // listed in ctx_->held_outputs
  double idle_deadline_ = 0;  // keep-alive: close if still idle
  double head_deadline_ = 0;  // a complete head must have arrived by then

  friend class HttpCycle;
  friend class WsSession;
};

class HttpCycle {
 public:
  HttpCycle(HttpProtocol& protocol, const http1::Request& request, pb::object scope);

  // ASGI callables.
  pb::object receive();
  pb::object send(pb::object message);
  // Called by ruvicorn.protocols.run_http when the app returns or raises.
  void app_returned();
  void app_failed();

  // From the protocol.
  void add_body(std::string_view chunk);
  void end_body();
  void deliver();          // resolve a waiting receive() if something is ready
  void disconnect();       // the client went away
  bool response_complete() const { return response_complete_; }
  bool body_complete() const { return body_complete_; }
  std::size_t unread() const { return unread_; }

  pb::object task;
  pb::object scope;
  pb::object self;         // keeps the Python object alive while the protocol points at it

 private:
  pb::object take_request_message();
  pb::object send_start(PyObject* message);
  pb::object send_body(PyObject* message);
  pb::object send_trailers(PyObject* message);
  pb::object send_pathsend(PyObject* message);
  pb::object written(const HttpError& err, bool more);  // after a body or trailers message
  pb::object after_write();
  void finish_response();

  HttpProtocol* protocol_;
  pb::object protocol_obj_;
  http1::ResponseContext response_ctx_;
  std::vector<pb::object> chunks_;  // received body pieces not yet handed to the app
  std::size_t unread_ = 0;
  bool body_complete_ = false;
  bool end_delivered_ = false;
  bool expect_continue_ = false;
  bool disconnected_ = false;
  bool response_started_ = false;
  bool head_written_ = false;
  bool response_complete_ = false;
  bool app_finished_ = false;
  pb::object receive_waiter_;
  std::vector<std::pair<std::string, std::string>> pending_headers_;
  int status_ = 0;
};

}  // namespace ruvicorn::py
