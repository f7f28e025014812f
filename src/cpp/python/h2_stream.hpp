// H2Stream: one HTTP/2 stream as a request cycle or WebSocket session sees it — the ResponseSink
// of an HttpCycle, or the WsChannel of a WsSession (RFC 8441: frames travel in DATA frames). It
// is owned by that cycle or session, which the app may hold after the stream ended; it reaches
// the connection through its H2Protocol, kept alive by `owner`.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sink.hpp"
#include "ws_channel.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class H2Protocol;

class H2Stream final : public ResponseSink, public WsChannel {
 public:
  H2Stream(H2Protocol& protocol, pb::object owner, std::uint32_t id, bool head_request);
  ~H2Stream() override;

  std::uint32_t id() const { return id_; }

  // ResponseSink
  HttpContext& ctx() const override;
  bool gone() const override;
  void start(int status, PyObject* headers, bool trailers) override;
  HttpError body(PyObject* body, std::string_view data, bool more) override;
  HttpError trailers(PyObject* headers, bool more) override;
  void informational(int status, PyObject* links) override;
  bool complete() const override { return complete_; }
  pb::object writable() override;
  void consumed(std::size_t n) override;
  void response_done(HttpCycle& cycle) override;
  void abort_response(const HttpError& error) noexcept override;
  void cycle_ended(HttpCycle& cycle) noexcept override;

  // WsChannel
  void accept(const WsUpgrade& upgrade, std::string_view subprotocol, PyObject* headers) override;
  void reject(const HttpError& error) override;
  ResponseSink& denial(int http_minor) override;
  std::string& out() override { return ws_out_; }
  void hold() override;
  void flush() override;
  void write(PyObject* bytes) override;
  // Credit goes back as the session reads frames (consumed): the stream window is the bound.
  void pause_reading() override {}
  void resume_reading() override {}
  bool reading_paused() const override { return false; }
  void close() noexcept override;
  void session_ended() noexcept override;

  // From H2Protocol.
  void reset() noexcept;            // the stream is gone (reset, or the connection lost)
  void window_opened() noexcept;    // queued data went out: a waiting send() may continue

 private:
  void release_waiter() noexcept;
  // DATA for the stream: large pieces, when output may be written now, go to the transport in
  // one bytes object the core frames them into; the rest through the connection's output.
  HttpError send_data(std::string_view data, bool end_stream);

  H2Protocol* protocol_;
  pb::object owner_;
  std::uint32_t id_;
  bool head_request_;
  bool reset_ = false;
  bool started_ = false;
  bool expect_trailers_ = false;
  bool body_done_ = false;
  bool complete_ = false;
  bool ended_ = false;              // END_STREAM submitted, the stream reset, or released
  std::vector<std::pair<std::string, std::string>> trailers_;  // pieces with more_trailers
  pb::object drain_waiter_;
  std::string ws_out_;
};

}  // namespace ruvicorn::py
