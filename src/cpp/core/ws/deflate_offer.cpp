// permessage-deflate negotiation (RFC 7692 5 and 7.1): parse the client's offers from
// Sec-WebSocket-Extensions, accept the first one we can honour, and write the response value.
#include <algorithm>

#include "ruvicorn/ws_handshake.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

namespace {

// One permessage-deflate offer's parameters; -1: absent, 0: present without a value.
struct Offer {
  bool valid = true;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = -1;
  int client_max_window_bits = -1;
};

// Window bits: a decimal 8..15 without leading zeros (RFC 7692 7.1.2), else -1.
int window_bits(std::string_view v) {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return -1;
}

void apply(Offer& o, std::string_view name, bool has_value, std::string_view value) {
  if (iequals(name, "server_no_context_takeover")) {
    if (has_value || o.server_no_context_takeover) o.valid = false;
    o.server_no_context_takeover = true;
  } else if (iequals(name, "client_no_context_takeover")) {
    if (has_value || o.client_no_context_takeover) o.valid = false;
    o.client_no_context_takeover = true;
  } else if (iequals(name, "server_max_window_bits")) {
    const int bits = has_value ? window_bits(value) : -1;
    if (bits < 0 || o.server_max_window_bits >= 0) o.valid = false;
    o.server_max_window_bits = bits;
  } else if (iequals(name, "client_max_window_bits")) {
    const int bits = has_value ? window_bits(value) : 0;
    if (bits < 0 || o.client_max_window_bits >= 0) o.valid = false;
    o.client_max_window_bits = bits;
  } else {
    o.valid = false;  // unknown parameter (RFC 7692 5.1)
  }
}

// Turns an acceptable offer into the connection's parameters; false to decline it.
bool accept(const Offer& o, const WsDeflateOptions& opt, WsDeflateParams& out) {
  WsDeflateParams p;
  p.enabled = true;
  p.level = opt.level;
  p.mem_level = opt.mem_level;
  p.min_size = opt.min_size;
  // 7.1.1.1: a client's server_no_context_takeover must be honoured; we may also ask for it.
  p.server_no_context_takeover = o.server_no_context_takeover || opt.server_no_context_takeover;
  // 7.1.1.2: the client's hint; echoing it costs nothing and lets us reset our inflater.
  p.client_no_context_takeover = o.client_no_context_takeover;
  // 7.1.2.1: our window may not exceed the client's limit; zlib's raw deflate needs >= 9.
  int server_bits = std::clamp(opt.server_max_window_bits, 9, 15);
  if (o.server_max_window_bits >= 0) {
    if (o.server_max_window_bits < 9) return false;
    server_bits = std::min(server_bits, o.server_max_window_bits);
  }
  p.server_max_window_bits = server_bits;
  p.send_server_max_window_bits = o.server_max_window_bits >= 0 || server_bits < 15;
  // 7.1.2.2: we may limit the client's window only when its offer names the parameter.
  p.client_max_window_bits = 15;
  if (o.client_max_window_bits >= 0) {
    int client_bits = std::clamp(opt.client_max_window_bits, 8, 15);
    if (o.client_max_window_bits > 0) client_bits = std::min(client_bits, o.client_max_window_bits);
    if (client_bits < 15) {
      p.client_max_window_bits = client_bits;
      p.send_client_max_window_bits = true;
    }
  }
  out = p;
  return true;
}

// Reads `extension *( ";" param [ "=" (token | quoted-string) ] )` lists. Returns true when an
// offer was accepted; a syntax error ends the walk of this header (its offers are declined).
bool walk(std::string_view s, const WsDeflateOptions& opt, WsDeflateParams& out) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto ows = [&] { while (i < n && is_ows(s[i])) ++i; };
  auto token = [&] {
    const std::size_t b = i;
    while (i < n && is_tchar(s[i])) ++i;
    return s.substr(b, i - b);
  };
  while (true) {
    ows();
    if (i == n) return false;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    const std::string_view name = token();
    if (name.empty()) return false;
    Offer offer;
    ows();
    while (i < n && s[i] == ';') {
      ++i;
      ows();
      const std::string_view param = token();
      if (param.empty()) return false;
      ows();
      bool has_value = false;
      std::string_view value;
      if (i < n && s[i] == '=') {
        ++i;
        ows();
        if (i < n && s[i] == '"') {
          const std::size_t b = ++i;
          while (i < n && s[i] != '"' && s[i] != '\\') ++i;
          if (i == n || s[i] != '"') return false;  // unterminated, or an escape we don't need
          value = s.substr(b, i - b);
          ++i;
        } else {
          value = token();
          if (value.empty()) return false;
        }
        has_value = true;
        ows();
      }
      apply(offer, param, has_value, value);
    }
    if (i < n && s[i] != ',') return false;
    if (offer.valid && iequals(name, "permessage-deflate") && accept(offer, opt, out)) {
      return true;
    }
  }
}

}  // namespace

bool ws_negotiate_deflate(const Header* headers, std::size_t count,
                          const WsDeflateOptions& options, WsDeflateParams& out) {
  out = WsDeflateParams{};
  if (!options.enabled) return false;
  for (std::size_t i = 0; i < count; ++i) {
    if (iequals(headers[i].name, "sec-websocket-extensions") &&
        walk(headers[i].value, options, out)) {
      return true;
    }
  }
  return false;
}

void WsDeflateParams::append_response_value(std::string& out) const {
  out += "permessage-deflate";
  if (server_no_context_takeover) out += "; server_no_context_takeover";
  if (client_no_context_takeover) out += "; client_no_context_takeover";
  if (send_server_max_window_bits) {
    out += "; server_max_window_bits=";
    out += std::to_string(server_max_window_bits);
  }
  if (send_client_max_window_bits) {
    out += "; client_max_window_bits=";
    out += std::to_string(client_max_window_bits);
  }
}

}  // namespace ruvicorn
