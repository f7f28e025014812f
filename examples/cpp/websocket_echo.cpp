#include "websocket_echo.hpp"

namespace example {

WebSocketEcho::WebSocketEcho(const ruvicorn::Limits& limits,
                             const ruvicorn::WsDeflateParams& deflate)
    : reader_(limits, deflate), writer_(deflate) {}

void WebSocketEcho::received(std::string_view data, std::string& out) {
  if (closed_) return;
  out_ = &out;
  reader_.feed(data, *this);
  out_ = nullptr;
}

void WebSocketEcho::going_away(std::string& out) {
  if (closed_) return;
  writer_.close(out, ruvicorn::WsClose::kGoingAway, "idle");
  closed_ = true;
}

void WebSocketEcho::on_message(ruvicorn::WsOpcode opcode, std::string_view payload) {
  writer_.message(*out_, opcode, payload);
}

void WebSocketEcho::on_ping(std::string_view payload) { writer_.pong(*out_, payload); }

void WebSocketEcho::on_pong(std::string_view) {}

void WebSocketEcho::on_close(int code, std::string_view) {
  // RFC 6455 5.5.1: answer with a close frame, echoing the status code.
  writer_.close(*out_, code);
  closed_ = true;
}

void WebSocketEcho::on_error(const ruvicorn::WsError& error) {
  writer_.close(*out_, error.code, error.reason);
  closed_ = true;
}

}  // namespace example
