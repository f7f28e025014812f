// HttpCycle: one request/response exchange as the ASGI app sees it (receive() and send()), over a
// ResponseSink. The same cycle serves an HTTP/1.1 request and an HTTP/2 stream.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "metrics_hooks.hpp"
#include "sink.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;

class HttpCycle {
 public:
  // `owner` keeps the sink's protocol alive while the app holds the cycle.
  HttpCycle(ResponseSink& sink, pb::object owner, pb::object scope, bool expect_continue);

  // ASGI callables.
  pb::object receive();
  pb::object send(pb::object message);
  // Called by ruvicorn.protocols.run_asgi when the app returns or raises.
  void app_returned();
  void app_failed();
  void app_returned_value() { app_failed(); }  // a value other than None: the app's bug

  // From the protocol.
  void add_body(std::string_view chunk);
  void end_body();
  void deliver() noexcept;  // resolve a waiting receive() if something is ready
  void disconnect() noexcept;  // the client went away (or the stream was reset)
  bool response_started() const { return response_started_; }
  bool response_complete() const { return response_complete_; }
  bool body_complete() const { return body_complete_; }
  std::size_t unread() const { return unread_; }

  // An HTTP/2 stream sink belongs to its cycle (the app may hold the cycle longer).
  void own_sink(std::unique_ptr<ResponseSink> sink) { owned_sink_ = std::move(sink); }

  pb::object task;
  pb::object scope;
  RequestMeter meter;

 private:
  friend struct MetricsProbe;  // reads the exchange's outcome (metrics.cpp)
  pb::object take_request_message();
  pb::object send_start(PyObject* message);
  pb::object send_body(PyObject* message);
  pb::object send_trailers(PyObject* message);
  pb::object send_pathsend(PyObject* message);
  pb::object send_early_hint(PyObject* message);
  pb::object written(const HttpError& err, bool more);  // after a body or trailers message
  void finish_response();
  void drop_body() noexcept;  // unread pieces go; a waiting receive() gets http.disconnect
  void abandon(pb::object& waiter, const char* where) noexcept;
  void log_access();

  ResponseSink* sink_;
  std::unique_ptr<ResponseSink> owned_sink_;
  pb::object owner_;
  std::vector<pb::object> chunks_;  // received body pieces not yet handed to the app
  std::size_t unread_ = 0;
  std::uint64_t body_sent_ = 0;     // the app's body bytes, for the access log
  int status_ = 0;
  bool body_complete_ = false;
  bool end_delivered_ = false;
  bool expect_continue_ = false;
  bool disconnected_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool app_finished_ = false;
  pb::object receive_waiter_;
};

}  // namespace ruvicorn::py
