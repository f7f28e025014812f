#include "session.hpp"

#include <string>

#include "ruvicorn/websocket.hpp"
#include "websocket_echo.hpp"

namespace example {

Session::Session(const ruvicorn::Limits& limits, ruvicorn::http1::ParserKind parser,
                 const ruvicorn::ResponseConfig& response_config)
    : limits_(limits), connection_(limits, parser), writer_(response_config) {}

Session::~Session() = default;

void Session::received(std::string_view data) {
  if (websocket_) {
    websocket_->received(data, out_);
    if (websocket_->closed()) close_after_flush_ = true;
    return;
  }
  connection_.feed(data, *this);
  // Closed without an event (a body drained after an early answer was malformed or too long).
  if (connection_.state() == ruvicorn::http1::Connection::State::kClosed) close_after_flush_ = true;
  if (connection_.state() == ruvicorn::http1::Connection::State::kUpgraded && websocket_) {
    // Bytes that followed the upgrade request in the same read already belong to the WebSocket.
    const std::string rest = connection_.take_unparsed();
    if (!rest.empty()) received(rest);
  }
}

void Session::peer_closed() {
  // Whatever was answered is still sent; nothing more can be asked.
  close_after_flush_ = true;
}

void Session::timed_out() {
  if (websocket_) {
    websocket_->going_away(out_);
    close_after_flush_ = true;
    return;
  }
  if (connection_.head_started()) {
    writer_.error_response(ruvicorn::HttpError{408, "request head not received in time"}, out_);
  }
  connection_.close();
  close_after_flush_ = true;
}

void Session::sent(std::size_t n) {
  out_sent_ += n;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
}

bool Session::wants_read() const {
  return !close_after_flush_ && out_.size() - out_sent_ < limits_.high_water &&
         connection_.buffered() < limits_.high_water;
}

void Session::on_request(const ruvicorn::http1::Request& request) {
  const ruvicorn::http1::RequestHead& head = request.head;
  context_.http_minor = head.http_minor;
  context_.head_request = head.method == "HEAD";
  context_.keep_alive = request.keep_alive;
  body_.clear();
  accept_head_.clear();
  upgrade_error_ = {};

  const Routing routing = route_request(request.path, head.method);
  route_ = routing.route;
  allow_ = routing.allow;
  if (route_ == Route::kWebSocket) {
    // The head's views die with this call, so the 101 head is written now and sent at body end.
    ruvicorn::WsUpgrade upgrade;
    upgrade_error_ = ruvicorn::ws_check_upgrade(head, ruvicorn::WsDeflateOptions{}, upgrade);
    if (!upgrade_error_) upgrade_error_ = ruvicorn::ws_begin_accept(upgrade, {}, accept_head_);
    if (!upgrade_error_) {
      ruvicorn::ws_end_head(accept_head_);
      deflate_ = upgrade.deflate;
    }
  } else if (route_ == Route::kEcho && request.expect_continue) {
    // RFC 9110 10.1.1: the client waits for this before sending a large body.
    ruvicorn::http1::ResponseWriter::informational(100, {}, out_);
  }
}

void Session::on_body(std::string_view chunk) {
  // Only /echo keeps its body; max_body_size (Limits) bounds it, answered with 413 by the core.
  if (route_ == Route::kEcho) body_.append(chunk);
}

void Session::on_body_end() {
  switch (route_) {
    case Route::kHello:
      respond(200, kTextPlain, kHelloBody);
      break;
    case Route::kEcho:
      respond(200, "application/octet-stream", body_);
      break;
    case Route::kWebSocket:
      accept_websocket();
      break;
    case Route::kMethodNotAllowed:
      respond(405, kTextPlain, "Method Not Allowed\n", "Allow", allow_);
      break;
    case Route::kNotFound:
      respond(404, kTextPlain, "Not Found\n");
      break;
  }
}

void Session::on_error(const ruvicorn::HttpError& error) {
  // Malformed input or a limit: answer once (unless a response is under way) and close.
  if (!writer_.started() || writer_.complete()) writer_.error_response(error, out_);
  close_after_flush_ = true;
}

void Session::respond(int status, std::string_view content_type, std::string_view body,
                      std::string_view extra_name, std::string_view extra_value) {
  writer_.reset();
  writer_.begin(context_, status);
  ruvicorn::HttpError error = writer_.header("Content-Type", content_type);
  if (!error) error = writer_.header("Content-Length", std::to_string(body.size()));
  if (!error && !extra_name.empty()) error = writer_.header(extra_name, extra_value);
  if (!error) error = writer_.end_head(out_);
  if (!error) error = writer_.body(body, /*more=*/false, out_);
  if (error) {
    // Only our own headers go in here, so this is a programming error: fail loudly but cleanly.
    writer_.reset();
    writer_.error_response(error, out_);
    close_after_flush_ = true;
    connection_.close();
    return;
  }
  const bool keep_alive = writer_.keep_alive();
  if (!keep_alive) close_after_flush_ = true;
  // May deliver the next pipelined request (its handlers run before this returns).
  connection_.response_done(keep_alive, *this);
  if (connection_.state() == ruvicorn::http1::Connection::State::kClosed) close_after_flush_ = true;
}

void Session::accept_websocket() {
  if (upgrade_error_) {
    // Not a valid upgrade (400), or another protocol version (426, RFC 6455 4.2.2).
    const bool version = upgrade_error_.status == 426;
    respond(upgrade_error_.status, kTextPlain, upgrade_error_.reason,
            version ? ruvicorn::kWsVersionHeaderName : std::string_view(),
            version ? ruvicorn::kWsVersionHeaderValue : std::string_view());
    return;
  }
  out_ += accept_head_;
  connection_.upgrade();
  websocket_ = std::make_unique<WebSocketEcho>(limits_, deflate_);
}

}  // namespace example
