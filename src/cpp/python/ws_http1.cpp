// The HTTP/1.1 side of a WebSocket (RFC 6455 4): HttpProtocol checks the upgrade request, hands
// the connection's bytes to a WsSession and serves as its WsChannel (the 101 answer, denial
// responses, frames through the connection's Transport).
#include <string>

#include "names.hpp"
#include "protocol.hpp"
#include "pyutil.hpp"
#include "scope.hpp"
#include "websocket.hpp"

namespace ruvicorn::py {

namespace {

// A body on the upgrade request would be mistaken for frames.
bool has_body(const http1::Request& request) {
  return request.framing == http1::BodyFraming::kChunked ||
         (request.framing == http1::BodyFraming::kLength && request.content_length > 0);
}

}  // namespace

void HttpProtocol::start_websocket(const http1::Request& request) {
  WsUpgrade upgrade;
  HttpError error = ws_check_upgrade(request.head, ws_options_of(*ctx_).deflate, upgrade);
  if (!error && has_body(request)) {
    error = HttpError{400, "WebSocket upgrade request with a body", true};
  }
  if (error.status == 426) {
    // 426 names the version we speak (RFC 6455 4.4).
    std::string body(status_reason(426));
    body += ": ";
    body += error.reason;
    std::string& out = transport_.out();
    out.clear();
    writer_.reset();
    writer_.begin(http1::ResponseContext{request.head.http_minor, false, false}, 426);
    writer_.header(kWsVersionHeaderName, kWsVersionHeaderValue);
    writer_.header("content-type", "text/plain; charset=utf-8");
    writer_.header("content-length", std::to_string(body.size()));
    writer_.end_head(out);
    writer_.body(body, false, out);
    writer_.reset();
    transport_.flush();
    close();
    return;
  }
  if (error) {
    send_error_response(error);
    return;
  }
  PyObject* scope = build_scope(*ctx_, transport_.peer(), scope_request(request), true);
  if (scope == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope);
  ctx_->trace(transport_.peer().client, "Upgrading to WebSocket");
  // From here the bytes are frames: the HTTP parser stops; what it already holds moves over.
  conn_.upgrade();
  std::string early = conn_.take_unparsed();
  auto session =
      std::make_unique<WsSession>(*this, self_, upgrade, request.head.http_minor, scope_obj);
  ws_ = session.get();
  ws_obj_ = pb::cast(std::move(session));
  ctx_->trace(transport_.peer().client, "WebSocket connection made");
  if (!early.empty()) ws_->feed(early);
  ctx_->start_app(ctx_->run_websocket, scope_obj, ws_obj_, ws_->task);
}

void HttpProtocol::accept(const WsUpgrade& upgrade, std::string_view subprotocol,
                          PyObject* headers) {
  // The app's headers first (validated), so that its own Date or Server replaces ours.
  std::string extra;
  bool app_date = false, app_server = false;
  for_each_header(headers, "websocket.accept 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    // The extension changes the framing; only the server may negotiate it.
                    if (iequals(name, "sec-websocket-extensions")) {
                      raise(PyExc_RuntimeError,
                            "websocket.accept headers may not set Sec-WebSocket-Extensions");
                    }
                    app_date = app_date || iequals(name, "date");
                    app_server = app_server || iequals(name, "server");
                    if (ws_append_header(name, value, extra)) {
                      raise(PyExc_RuntimeError, "invalid header in websocket.accept");
                    }
                  });
  std::string& out = transport_.out();
  out.clear();
  if (ws_begin_accept(upgrade, subprotocol, out)) {
    out.clear();
    raise(PyExc_RuntimeError, "invalid subprotocol in websocket.accept");
  }
  writer_.append_common_headers(app_server, app_date, out);
  out += extra;
  ws_end_head(out);
  transport_.flush();
}

void HttpProtocol::reject(const HttpError& error) { send_error_response(error); }

ResponseSink& HttpProtocol::denial(int http_minor) {
  // The denial is an ordinary response on a connection that closes after it.
  writer_.reset();
  response_ctx_ = http1::ResponseContext{http_minor, false, false};
  return *this;
}

}  // namespace ruvicorn::py
