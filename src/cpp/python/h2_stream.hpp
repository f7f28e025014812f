// H2Stream: one HTTP/2 stream as a request cycle or WebSocket session sees it — the ResponseSink
// of an HttpCycle (what it shares with HTTP/3 is StreamSink's), or the WsChannel of a WsSession
// (RFC 8441: frames travel in DATA frames). It
// is owned by that cycle or session, which the app may hold after the stream ended; it reaches
// the connection through its H2Protocol, kept alive by `owner`.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "ruvicorn/http2.hpp"
#include "stream_sink.hpp"
#include "ws_channel.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class H2Protocol;

class H2Stream final : public StreamSink<H2Stream, H2Protocol, std::uint32_t>,
                       public WsChannel {
 public:
  static constexpr auto kInternalError = http2::ErrorCode::kInternalError;
  static constexpr const char* kDrainWaiter = "http2 drain waiter";

  H2Stream(H2Protocol& protocol, pb::object owner, std::uint32_t id, bool head_request);

  // ResponseSink (the rest is StreamSink's) and WsChannel
  HttpContext& ctx() const override;
  bool gone() const override;
  pb::object writable() override;
  void consumed(std::size_t n) override;
  void response_done(HttpCycle& cycle) override;
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

  // From H2Protocol: queued data went out, a waiting send() may continue.
  void window_opened() noexcept;

  // For StreamSink. send_data: DATA for the stream; large pieces, when output may be written
  // now, go to the transport in one bytes object the core frames them into; the rest through
  // the connection's output.
  http2::Connection& conn();
  HttpError send_data(std::string_view data, bool end_stream);

 private:
  std::string ws_out_;
};

}  // namespace ruvicorn::py
