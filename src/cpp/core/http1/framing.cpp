#include "http1/framing.hpp"

#include <algorithm>

#include "http1/head_syntax.hpp"

namespace ruvicorn::http1 {

namespace {

HttpError bad(std::string_view why) { return HttpError{400, why, true}; }
HttpError smuggling(std::string_view why) { return HttpError{400, why, true, true}; }

}  // namespace

HttpError make_request(const RequestHead& head, const Limits& limits, Request& out) {
  out.head = head;
  out.framing = BodyFraming::kNone;
  out.content_length = 0;
  out.expect_continue = false;
  out.upgrade_websocket = false;
  out.upgrade_h2c = false;
  out.http2_settings = {};
  const bool http11 = head.http_minor == 1;

  // CONNECT asks for a tunnel, which this server does not offer: 400 (405 would need Allow).
  if (head.method == "CONNECT") return bad("CONNECT is not supported");

  // Request target forms (RFC 9112 3.2): origin, absolute, asterisk (OPTIONS only).
  std::string_view target = head.target;
  if (!target.empty() && target.front() == '/') {
    // origin-form
  } else if (target == "*") {
    if (head.method != "OPTIONS") return bad("asterisk-form target is only allowed with OPTIONS");
  } else {
    // absolute-form: only the schemes this server answers for, with a non-empty authority
    std::size_t scheme_end = target.find("://");
    std::string_view scheme = target.substr(0, scheme_end);
    if (scheme_end == std::string_view::npos || !(iequals(scheme, "http") || iequals(scheme, "https")))
      return bad("invalid request target");
    std::size_t authority = scheme_end + 3;
    std::size_t slash = target.find('/', authority);
    std::size_t query = target.find('?', authority);
    std::size_t end = std::min(slash, query);
    if (end == authority || authority == target.size()) return bad("invalid request target");
    if (slash == std::string_view::npos || (query != std::string_view::npos && query < slash))
      target = query == std::string_view::npos ? std::string_view("/") : target.substr(query);
    else
      target = target.substr(slash);
  }
  split_target(target, out.path, out.query);

  bool close = false, keep_alive_token = false, connection_upgrade = false, upgrade_ws = false;
  bool upgrade_h2c = false, connection_settings = false;
  std::size_t settings_fields = 0;
  bool has_length = false, has_te = false, te_last_chunked = false, te_other = false;
  std::uint64_t length = 0;
  std::size_t hosts = 0, te_chunked = 0;
  for (std::size_t i = 0; i < head.header_count; ++i) {
    std::string_view name = head.headers[i].name;
    std::string_view value = head.headers[i].value;
    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) ++hosts;
        break;
      case 6:
        if (iequals(name, "expect") && iequals(value, "100-continue")) out.expect_continue = http11;
        break;
      case 7:
        if (iequals(name, "upgrade")) {
          if (list_has(value, "websocket")) upgrade_ws = true;
          if (list_has(value, "h2c")) upgrade_h2c = true;
        }
        break;
      case 10:
        if (iequals(name, "connection")) {
          for_each_element(value, [&](std::string_view item) {
            if (iequals(item, "close")) close = true;
            else if (iequals(item, "keep-alive")) keep_alive_token = true;
            else if (iequals(item, "upgrade")) connection_upgrade = true;
            else if (iequals(item, "http2-settings")) connection_settings = true;
            return true;
          });
        }
        break;
      case 14:
        if (iequals(name, "content-length")) {
          // RFC 9112 6.3: a list of identical values may be read as one value.
          bool valid = true, any = false;
          for_each_element(value, [&](std::string_view item) {
            std::uint64_t v = 0;
            if (!parse_decimal(item, v) || (has_length && v != length)) {
              valid = false;
              return false;
            }
            has_length = any = true;
            length = v;
            return true;
          });
          if (!valid || !any) return smuggling("invalid Content-Length");
        } else if (iequals(name, "http2-settings")) {
          ++settings_fields;
          out.http2_settings = value;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          // All Transfer-Encoding fields form one list of codings (RFC 9110 5.3).
          has_te = true;
          for_each_element(value, [&](std::string_view item) {
            te_last_chunked = iequals(item, "chunked");
            if (te_last_chunked) ++te_chunked;
            else te_other = true;
            return true;
          });
        }
        break;
      default:
        break;
    }
  }

  // RFC 9112 3.2: exactly one Host in HTTP/1.1 (at most one in HTTP/1.0).
  if (hosts > 1) return bad("more than one Host header");
  if (hosts == 0 && http11) return bad("missing Host header");

  if (has_te) {
    // RFC 9112 6.1: Content-Length with Transfer-Encoding is a smuggling attempt.
    if (has_length) return smuggling("both Content-Length and Transfer-Encoding");
    if (!http11) return smuggling("Transfer-Encoding in an HTTP/1.0 request");
    // RFC 9112 6.3: a final coding other than chunked leaves the length unknown: 400.
    if (!te_last_chunked) return smuggling("Transfer-Encoding is not a final chunked");
    if (te_chunked > 1) return smuggling("chunked applied more than once");
    // chunked after other codings (gzip, chunked): RFC 9112 6.1 says 501 for codings we lack.
    if (te_other) return HttpError{501, "unsupported transfer coding", true};
    out.framing = BodyFraming::kChunked;
  } else if (has_length) {
    if (limits.max_body_size != 0 && length > limits.max_body_size)
      return HttpError{413, "request body too large", true};
    out.content_length = length;
    out.framing = length > 0 ? BodyFraming::kLength : BodyFraming::kNone;
  }

  out.keep_alive = !close && (http11 || keep_alive_token);
  out.upgrade_websocket = upgrade_ws && connection_upgrade;
  // RFC 7540 3.2: Upgrade: h2c needs "Connection: Upgrade, HTTP2-Settings" and exactly one
  // HTTP2-Settings field; otherwise the request is served over HTTP/1.1 as if it had no Upgrade.
  out.upgrade_h2c = http11 && upgrade_h2c && connection_upgrade && connection_settings &&
                    settings_fields == 1;
  return HttpError{};
}

}  // namespace ruvicorn::http1
