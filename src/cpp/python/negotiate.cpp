// Where an HTTP/1.1 connection becomes HTTP/2 (RFC 9113 3): ALPN chose "h2" (connection_made),
// a cleartext connection opens with the client preface (prior knowledge), or an HTTP/1.1 request
// asks for "Upgrade: h2c" (RFC 7540 3.2). In each case the asyncio transport is handed to an
// H2Protocol and this protocol steps aside: one protocol object per connection kind.
#include <string>

#include "h2_protocol.hpp"
#include "names.hpp"
#include "protocol.hpp"
#include "ruvicorn/base64.hpp"
#include "ruvicorn/http2.hpp"

namespace ruvicorn::py {

bool HttpProtocol::sniff_preface(std::string_view& data) {
  const std::string_view preface = http2::kPreface;
  if (sniffed_.empty() && data.size() >= preface.size()) {
    // The common case: the first read holds the whole preface, or is plainly HTTP/1.1.
    sniffing_ = false;
    if (data.substr(0, preface.size()) != preface) return true;
    hand_over_h2(data);
    return false;
  }
  sniffed_.append(data.data(), data.size());
  const std::size_t n = std::min(sniffed_.size(), preface.size());
  if (sniffed_.compare(0, n, preface, 0, n) != 0) {
    sniffing_ = false;  // HTTP/1.1 after all: parse what was held back
    data = sniffed_;
    return true;
  }
  if (sniffed_.size() < preface.size()) return false;  // so far a prefix: wait for more
  sniffing_ = false;
  const std::string early = std::move(sniffed_);
  sniffed_.clear();
  hand_over_h2(early);
  return false;
}

void HttpProtocol::hand_over_h2(std::string_view early) {
  try {
    auto h2 = std::make_unique<H2Protocol>(context_obj_);
    H2Protocol* protocol = h2.get();
    pb::object obj = pb::cast(std::move(h2));
    transport_.handle().attr("set_protocol")(obj);
    leave_registries();  // one connection, counted once (--limit-concurrency)
    protocol->take_over(transport_, obj, early);
    forget_transport();
  } catch (pb::error_already_set& e) {
    // From connection_made or data_received: logged, and the connection ends.
    e.restore();
    ctx_->log_internal_error("HTTP/2 hand-over");
    close();
  }
}

bool HttpProtocol::upgrade_h2c(const http1::Request& request) {
  // Only over cleartext (h2c), and only for a request without a body (the body would have to
  // be read as HTTP/1.1 before the switch).
  if (!ctx_->http2 || transport_.peer().tls || request.framing != http1::BodyFraming::kNone) {
    return false;
  }
  std::string settings;
  if (!base64url_decode(request.http2_settings, settings)) {
    send_error_response(HttpError{400, "invalid HTTP2-Settings", true});
    return true;
  }
  auto h2 = std::make_unique<H2Protocol>(context_obj_);
  H2Protocol* protocol = h2.get();
  pb::object obj = pb::cast(std::move(h2));
  // The bytes after this request (the client preface, frames) belong to HTTP/2.
  conn_.upgrade();
  const std::string early = conn_.take_unparsed();
  std::string& out = transport_.out();
  out.clear();
  out += "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
  leave_registries();  // one connection, counted once (--limit-concurrency)
  if (!protocol->take_over_upgraded(transport_, obj, request, settings, early)) {
    out.clear();
    ctx_->add_connection(self_);
    ctx_->live.insert(this);
    send_error_response(HttpError{400, "invalid HTTP2-Settings", true});
    return true;
  }
  transport_.flush();  // before the server preface, which the HTTP/2 side holds for this turn
  transport_.handle().attr("set_protocol")(obj);
  forget_transport();
  return true;
}

void HttpProtocol::leave_registries() {
  ctx_->live.erase(this);
  ctx_->forget_connection(self_);
}

void HttpProtocol::forget_transport() {
  // Without closing it: it now belongs to the H2Protocol.
  conn_.close();
  transport_.detach();
  self_ = pb::object();
}

}  // namespace ruvicorn::py
