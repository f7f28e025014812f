// H3Stream: one HTTP/3 request stream as its request cycle sees it, the ResponseSink of an
// HttpCycle (what it shares with HTTP/2 is StreamSink's). Owned by that cycle (the app may hold
// it after the stream ended); it reaches the connection through its H3Protocol, kept alive by
// `owner`.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string_view>
#include <utility>

#include "ruvicorn/http3.hpp"
#include "stream_sink.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class H3Protocol;

class H3Stream final : public StreamSink<H3Stream, H3Protocol, std::uint64_t> {
 public:
  static constexpr auto kInternalError = http3::ErrorCode::kInternalError;
  static constexpr const char* kDrainWaiter = "http3 drain waiter";

  H3Stream(H3Protocol& protocol, pb::object owner, std::uint64_t id, bool head_request);

  // ResponseSink (the rest is StreamSink's)
  bool gone() const override;
  pb::object writable() override;
  void consumed(std::size_t n) override;
  void response_done(HttpCycle& cycle) override;
  void cycle_ended(HttpCycle& cycle) noexcept override;

  // From H3Protocol: output went out, a send() waiting for the stream's QUIC send buffer may
  // continue.
  void drained() noexcept;
  bool waiting() const { return static_cast<bool>(drain_waiter_); }

  // For StreamSink.
  http3::Connection& conn();
  HttpError send_data(std::string_view data, bool end_stream);

 private:
  std::size_t queued_ = 0;  // body bytes queued since the send buffer was last measured
};

}  // namespace ruvicorn::py
