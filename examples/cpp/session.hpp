// One HTTP/1.1 client connection of the example server, without the socket: received bytes go in,
// bytes to send come out. This is the whole embedding contract of ruvicorn_core (see
// docs/embedding.md); server.cpp only moves bytes between a socket and a Protocol (protocol.hpp).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "protocol.hpp"
#include "routes.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/response.hpp"
#include "ruvicorn/ws_handshake.hpp"

namespace example {

class WebSocketEcho;

class Session : public Protocol, public ruvicorn::http1::ConnectionHandler {
 public:
  Session(const ruvicorn::Limits& limits, ruvicorn::http1::ParserKind parser,
          const ruvicorn::ResponseConfig& response_config);
  ~Session() override;

  // Protocol (see protocol.hpp). A timeout answers a half-received head with 408.
  void received(std::string_view data) override;
  void peer_closed() override;
  void timed_out() override;
  std::string_view pending() const override { return std::string_view(out_).substr(out_sent_); }
  void sent(std::size_t n) override;
  // Read more only while the peer is not ahead of us by more than the high-water mark.
  bool wants_read() const override;
  bool finished() const override { return close_after_flush_; }

 private:
  // ruvicorn::http1::ConnectionHandler
  void on_request(const ruvicorn::http1::Request& request) override;
  void on_body(std::string_view chunk) override;
  void on_body_end() override;
  void on_error(const ruvicorn::HttpError& error) override;

  void respond(int status, std::string_view content_type, std::string_view body,
               std::string_view extra_name = {}, std::string_view extra_value = {});
  void accept_websocket();

  const ruvicorn::Limits& limits_;
  ruvicorn::http1::Connection connection_;
  ruvicorn::http1::ResponseWriter writer_;
  std::unique_ptr<WebSocketEcho> websocket_;  // set once the upgrade is accepted

  // What on_body_end needs from the current request (its views die with the head).
  Route route_ = Route::kNotFound;
  std::string_view allow_;  // static text for a 405's Allow header
  ruvicorn::http1::ResponseContext context_;
  ruvicorn::HttpError upgrade_error_;   // /ws: why the upgrade is refused
  std::string accept_head_;             // /ws: the 101 response head
  ruvicorn::WsDeflateParams deflate_;   // /ws: negotiated permessage-deflate
  std::string body_;

  std::string out_;
  std::size_t out_sent_ = 0;
  bool close_after_flush_ = false;
};

}  // namespace example
