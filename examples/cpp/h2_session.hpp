// One HTTP/2 client connection of the example server (cleartext, prior knowledge), without the
// socket: ruvicorn::http2::Connection does the protocol; this class is its Handler (the routes of
// routes.hpp, answered when a request's body is complete) and moves bytes for server.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol.hpp"
#include "routes.hpp"
#include "ruvicorn/http2.hpp"

namespace example {

class H2Session : public Protocol, public ruvicorn::http2::Handler {
 public:
  H2Session(const ruvicorn::Limits& limits, const ruvicorn::ResponseConfig& response_config);

  // Protocol (see protocol.hpp). A timeout sends GOAWAY (or ends an unfinished header block).
  void received(std::string_view data) override;
  void peer_closed() override { close_after_flush_ = true; }
  void timed_out() override;
  std::string_view pending() const override;
  void sent(std::size_t n) override;
  bool wants_read() const override;
  bool finished() const override { return close_after_flush_ || connection_.done(); }

 private:
  // ruvicorn::http2::Handler
  void on_request(const ruvicorn::http2::Request& request) override;
  void on_data(std::uint32_t stream, std::string_view data) override;
  void on_end(std::uint32_t stream) override;
  void on_reset(std::uint32_t stream, ruvicorn::http2::ErrorCode code) override;
  void on_writable(std::uint32_t) override {}  // every body is submitted whole
  void on_goaway(ruvicorn::http2::ErrorCode, std::uint32_t) override {}
  void on_error(const ruvicorn::http2::Error&) override { close_after_flush_ = true; }

  void respond(std::uint32_t stream, int status, std::string_view content_type,
               std::string_view body, bool head = false, std::string_view allow = {});
  void apply_backpressure();

  // What on_end needs of a request (its views die with on_request).
  struct Exchange {
    Route route = Route::kNotFound;
    std::string_view allow;
    bool head = false;
    std::string body;  // /echo only; Limits::max_body_size bounds it (the core answers 413)
  };

  const ruvicorn::Limits& limits_;
  ruvicorn::http2::Connection connection_;
  std::string& out_;         // connection_.output()
  std::unordered_map<std::uint32_t, Exchange> exchanges_;
  std::size_t sent_ = 0;     // prefix of connection_.output() already written
  bool close_after_flush_ = false;
};

}  // namespace example
