// What server.cpp needs from a connection's protocol, without the socket: received bytes go in,
// bytes to send come out. Session (HTTP/1.1 and WebSocket, session.hpp) and H2Session (HTTP/2,
// h2_session.hpp) implement it; Dispatch picks one from the first bytes a connection sends.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ruvicorn/connection.hpp"
#include "ruvicorn/limits.hpp"
#include "ruvicorn/response.hpp"

namespace example {

class Protocol {
 public:
  virtual ~Protocol() = default;
  // Bytes read from the socket.
  virtual void received(std::string_view data) = 0;
  // The peer closed its sending side: no more input will come.
  virtual void peer_closed() = 0;
  // The peer sent nothing for too long.
  virtual void timed_out() = 0;
  // Bytes waiting to be sent; the owner sends a prefix and reports it with sent().
  virtual std::string_view pending() const = 0;
  virtual void sent(std::size_t n) = 0;
  // Read more only while the peer is not too far ahead of us.
  virtual bool wants_read() const = 0;
  // Close the socket once pending() is empty.
  virtual bool finished() const = 0;
};

// Cleartext HTTP/2 with prior knowledge (RFC 9113 3.3): a connection that opens with the client
// preface speaks HTTP/2; anything else is HTTP/1.1. Decided on the first bytes (at most the 24
// of the preface), which are then handed whole to the chosen protocol.
class Dispatch : public Protocol {
 public:
  Dispatch(const ruvicorn::Limits& limits, ruvicorn::http1::ParserKind parser,
           const ruvicorn::ResponseConfig& response_config)
      : limits_(limits), parser_(parser), response_config_(response_config) {}

  void received(std::string_view data) override;
  void peer_closed() override;
  void timed_out() override;
  std::string_view pending() const override {
    return chosen_ ? chosen_->pending() : std::string_view();
  }
  void sent(std::size_t n) override {
    if (chosen_) chosen_->sent(n);
  }
  bool wants_read() const override { return chosen_ ? chosen_->wants_read() : !closed_; }
  bool finished() const override { return chosen_ ? chosen_->finished() : closed_; }

 private:
  void choose();

  const ruvicorn::Limits& limits_;
  ruvicorn::http1::ParserKind parser_;
  const ruvicorn::ResponseConfig& response_config_;
  std::unique_ptr<Protocol> chosen_;
  std::string first_;    // bytes seen before the choice
  bool closed_ = false;  // the peer left before the choice
};

}  // namespace example
