#include "h2_session.hpp"

#include <chrono>
#include <string>

namespace example {

namespace {
double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

H2Session::H2Session(const ruvicorn::Limits& limits,
                     const ruvicorn::ResponseConfig& response_config)
    : limits_(limits),
      connection_(limits, response_config, /*connect_protocol=*/false),
      out_(connection_.output()) {
  connection_.start();  // our SETTINGS go out first
}

void H2Session::received(std::string_view data) {
  connection_.feed(data, *this, monotonic_seconds());
  apply_backpressure();
}

void H2Session::timed_out() {
  if (connection_.header_block_open()) {
    connection_.timeout_header_block();  // a request head that never completed
  } else {
    connection_.goaway();  // idle: say goodbye properly
  }
  close_after_flush_ = true;
}

std::string_view H2Session::pending() const { return std::string_view(out_).substr(sent_); }

void H2Session::sent(std::size_t n) {
  sent_ += n;
  if (sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  }
  apply_backpressure();
}

bool H2Session::wants_read() const {
  return !close_after_flush_ && pending().size() < limits_.high_water;
}

// The peer reads slower than we write: response DATA waits in the streams (within their
// windows) instead of piling up in the output; control frames are bounded by the core.
void H2Session::apply_backpressure() {
  if (pending().size() >= limits_.high_water) {
    connection_.pause_output();
  } else {
    connection_.resume_output();
  }
}

void H2Session::on_request(const ruvicorn::http2::Request& request) {
  const Routing routing = route_request(request.path, request.method);
  Exchange& exchange = exchanges_[request.stream];
  exchange.route = routing.route;
  exchange.allow = routing.allow;
  exchange.head = request.method == "HEAD";
  // RFC 9110 10.1.1: the client may wait for this before sending a large body.
  if (exchange.route == Route::kEcho && request.expect_continue)
    connection_.informational(request.stream, 100, {});
}

void H2Session::on_data(std::uint32_t stream, std::string_view data) {
  auto it = exchanges_.find(stream);
  if (it != exchanges_.end() && it->second.route == Route::kEcho) it->second.body.append(data);
  connection_.consume(stream, data.size());  // read at once: the window reopens
}

void H2Session::on_end(std::uint32_t stream) {
  auto it = exchanges_.find(stream);
  if (it == exchanges_.end()) return;
  const Exchange exchange = std::move(it->second);
  exchanges_.erase(it);
  switch (exchange.route) {
    case Route::kHello:
      respond(stream, 200, kTextPlain, kHelloBody, exchange.head);
      break;
    case Route::kEcho:
      respond(stream, 200, "application/octet-stream", exchange.body);
      break;
    case Route::kWebSocket:
      respond(stream, 400, kTextPlain, "WebSocket needs an HTTP/1.1 upgrade here\n");
      break;
    case Route::kMethodNotAllowed:
      respond(stream, 405, kTextPlain, "Method Not Allowed\n", false, exchange.allow);
      break;
    case Route::kNotFound:
      respond(stream, 404, kTextPlain, "Not Found\n");
      break;
  }
}

void H2Session::on_reset(std::uint32_t stream, ruvicorn::http2::ErrorCode) {
  // The client cancelled (or broke) the request: nothing to answer; the slot is free again.
  exchanges_.erase(stream);
  connection_.release(stream);
}

void H2Session::respond(std::uint32_t stream, int status, std::string_view content_type,
                        std::string_view body, bool head, std::string_view allow) {
  // A HEAD response keeps the content-length of the GET; the core drops its body.
  ruvicorn::HttpError error = connection_.begin_response(stream, status, head);
  if (!error) error = connection_.response_field("content-type", content_type);
  if (!error) error = connection_.response_field("content-length", std::to_string(body.size()));
  if (!error && !allow.empty()) error = connection_.response_field("allow", allow);
  if (!error) error = connection_.end_response(/*end_stream=*/false);
  if (!error) error = connection_.data(stream, body, /*end_stream=*/true);
  // Only our own fields go in, so an error is a bug: answer 500 (or reset) rather than hang.
  if (error) connection_.error_response(stream, error);
  connection_.release(stream);  // this "application" is done with the stream
}

}  // namespace example
