// H3Stream: one HTTP/3 request stream as its request cycle sees it, the ResponseSink of an
// HttpCycle. Owned by that cycle (the app may hold it after the stream ended); it reaches the
// connection through its H3Protocol, kept alive by `owner`.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sink.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class H3Protocol;

class H3Stream final : public ResponseSink {
 public:
  H3Stream(H3Protocol& protocol, pb::object owner, std::uint64_t id, bool head_request);
  ~H3Stream() override;

  std::uint64_t id() const { return id_; }

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

  // From H3Protocol.
  void reset() noexcept;          // the stream is gone (reset, or the connection lost)
  // Output went out: a send() waiting for the stream's QUIC send buffer may continue.
  void drained() noexcept;
  bool waiting() const { return static_cast<bool>(drain_waiter_); }

 private:
  void release_waiter() noexcept;

  H3Protocol* protocol_;
  pb::object owner_;
  std::uint64_t id_;
  bool head_request_;
  bool reset_ = false;
  bool started_ = false;
  bool expect_trailers_ = false;
  bool body_done_ = false;
  bool complete_ = false;
  bool ended_ = false;              // the FIN (or a reset) was queued
  std::size_t queued_ = 0;          // body bytes queued since the send buffer was last measured
  std::vector<std::pair<std::string, std::string>> trailers_;  // pieces with more_trailers
  pb::object drain_waiter_;
};

}  // namespace ruvicorn::py
