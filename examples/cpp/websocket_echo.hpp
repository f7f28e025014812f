// The WebSocket side of a Session after a successful upgrade: frames in, echoed frames out, with
// ruvicorn's codec (ruvicorn/websocket.hpp) doing framing, masking, UTF-8, deflate and close codes.
#pragma once
#include <string>
#include <string_view>

#include "ruvicorn/limits.hpp"
#include "ruvicorn/websocket.hpp"

namespace example {

class WebSocketEcho : public ruvicorn::WsHandler {
 public:
  WebSocketEcho(const ruvicorn::Limits& limits, const ruvicorn::WsDeflateParams& deflate);

  // Bytes from the peer; frames to send are appended to `out`.
  void received(std::string_view data, std::string& out);
  // The peer went quiet for too long: send a close (1001 going away).
  void going_away(std::string& out);
  // A close was sent (echoed, or ours after a protocol error): end the connection after `out`.
  bool closed() const { return closed_; }

 private:
  // ruvicorn::WsHandler
  void on_message(ruvicorn::WsOpcode opcode, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(int code, std::string_view reason) override;
  void on_error(const ruvicorn::WsError& error) override;

  ruvicorn::WsReader reader_;
  ruvicorn::WsWriter writer_;
  std::string* out_ = nullptr;  // the send buffer, during received()
  bool closed_ = false;
};

}  // namespace example
