// One client connection of the example server, without the socket: received bytes go in, bytes to
// send come out. This is the whole embedding contract of ruvicorn_core (see docs/embedding.md);
// server.cpp only moves bytes between a socket and a Session.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ruvicorn/connection.hpp"
#include "ruvicorn/response.hpp"
#include "ruvicorn/ws_handshake.hpp"

namespace example {

class WebSocketEcho;

class Session : public ruvicorn::http1::ConnectionHandler {
 public:
  Session(const ruvicorn::Limits& limits, ruvicorn::http1::ParserKind parser,
          const ruvicorn::ResponseConfig& response_config);
  ~Session() override;

  // Bytes read from the socket.
  void received(std::string_view data);
  // The peer closed its sending side: no more input will come.
  void peer_closed();

  // The peer sent nothing for too long: a half-received head gets a 408, then the session ends.
  void timed_out();

  // Bytes waiting to be sent; the owner sends a prefix and reports it with sent().
  std::string_view pending() const { return std::string_view(out_).substr(out_sent_); }
  void sent(std::size_t n);
  // Read more only while the peer is not ahead of us by more than the high-water mark.
  bool wants_read() const;
  // Close the socket once pending() is empty.
  bool finished() const { return close_after_flush_; }

 private:
  // ruvicorn::http1::ConnectionHandler
  void on_request(const ruvicorn::http1::Request& request) override;
  void on_body(std::string_view chunk) override;
  void on_body_end() override;
  void on_error(const ruvicorn::HttpError& error) override;

  void respond(int status, std::string_view content_type, std::string_view body,
               std::string_view extra_name = {}, std::string_view extra_value = {});
  void accept_websocket();

  enum class Route { kHello, kEcho, kWebSocket, kNotFound, kMethodNotAllowed };

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
