// RFC 6455 4.2.1-4.2.2: the checks on a client's opening handshake and the server's 101 answer.
#include <cstring>

#include "ruvicorn/ws_handshake.hpp"
#include "ruvicorn/base64.hpp"
#include "util/sha1.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr HttpError kBadMethod{400, "WebSocket upgrade requires GET"};
constexpr HttpError kBadVersion{400, "WebSocket upgrade requires HTTP/1.1"};
constexpr HttpError kNoUpgrade{400, "Missing \"Upgrade: websocket\""};
constexpr HttpError kNoConnection{400, "Missing \"Connection: upgrade\""};
constexpr HttpError kBadKey{400, "Missing or invalid Sec-WebSocket-Key"};
constexpr HttpError kBadWsVersion{426, "Unsupported WebSocket version (13 is supported)"};
constexpr HttpError kBadProtocol{400, "Invalid Sec-WebSocket-Protocol"};
constexpr HttpError kBadSubprotocol{500, "Invalid subprotocol in websocket.accept"};
constexpr HttpError kBadHeader{500, "Invalid header in websocket.accept"};

// The fields both handshakes share: Sec-WebSocket-Version (exactly one, "13") and the offered
// subprotocols. Other fields are left to `other(header)`.
template <typename Other>
HttpError check_common(const Header* headers, std::size_t count, WsUpgrade& out, Other&& other) {
  int versions = 0;
  bool version_ok = false;
  for (std::size_t i = 0; i < count; ++i) {
    const Header& h = headers[i];
    if (iequals(h.name, "sec-websocket-version")) {
      ++versions;
      version_ok = h.value == "13";
    } else if (iequals(h.name, "sec-websocket-protocol")) {
      // 1#token (RFC 6455 11.3.4); an empty element list is malformed.
      bool any = false;
      bool ok = for_each_element(h.value, [&](std::string_view item) {
        if (!is_token(item)) return false;
        out.subprotocols.push_back(item);
        any = true;
        return true;
      });
      if (!ok || !any) return kBadProtocol;
    } else {
      other(h);
    }
  }
  if (versions != 1 || !version_ok) return kBadWsVersion;
  return {};
}

}  // namespace

void ws_accept_value(std::string_view key, char (&out)[28]) {
  Sha1 sha;
  sha.update(key);
  sha.update(kGuid);
  const auto digest = sha.finish();
  std::string text;  // 28 bytes, once per handshake
  base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()),
                text);
  std::memcpy(out, text.data(), sizeof(out));
}

HttpError ws_check_upgrade(std::string_view method, int http_minor, const Header* headers,
                           std::size_t count, const WsDeflateOptions& deflate, WsUpgrade& out) {
  out = WsUpgrade{};
  if (method != "GET") return kBadMethod;
  if (http_minor < 1) return kBadVersion;
  bool upgrade = false, connection = false;
  int keys = 0;
  HttpError err = check_common(headers, count, out, [&](const Header& h) {
    if (iequals(h.name, "upgrade")) {
      upgrade = upgrade || list_has(h.value, "websocket");
    } else if (iequals(h.name, "connection")) {
      connection = connection || list_has(h.value, "upgrade");
    } else if (iequals(h.name, "sec-websocket-key")) {
      ++keys;
      out.key = h.value;
    }
  });
  if (!upgrade) return kNoUpgrade;
  if (!connection) return kNoConnection;
  if (err) return err;
  if (keys != 1 || base64_decoded_size(out.key) != 16) return kBadKey;
  ws_accept_value(out.key, out.accept);
  if (deflate.enabled) ws_negotiate_deflate(headers, count, deflate, out.deflate);
  return {};
}

HttpError ws_check_extended_connect(const Header* headers, std::size_t count,
                                    const WsDeflateOptions& deflate, WsUpgrade& out) {
  out = WsUpgrade{};
  // RFC 8441 4-5: no key and no accept value; :method CONNECT and :protocol were checked by the
  // HTTP/2 layer; Upgrade and Connection cannot appear in HTTP/2 at all.
  HttpError err = check_common(headers, count, out, [](const Header&) {});
  if (err) return err;
  if (deflate.enabled) ws_negotiate_deflate(headers, count, deflate, out.deflate);
  return {};
}

HttpError ws_begin_accept(const WsUpgrade& upgrade, std::string_view subprotocol,
                          std::string& out) {
  if (!subprotocol.empty() && !is_token(subprotocol)) return kBadSubprotocol;
  out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: ";
  out += upgrade.accept_value();
  out += "\r\n";
  if (!subprotocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += subprotocol;
    out += "\r\n";
  }
  if (upgrade.deflate.enabled) {
    out += "Sec-WebSocket-Extensions: ";
    upgrade.deflate.append_response_value(out);
    out += "\r\n";
  }
  return {};
}

HttpError ws_append_header(std::string_view name, std::string_view value, std::string& out) {
  if (!is_token(name)) return kBadHeader;
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return kBadHeader;
  }
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
  return {};
}

}  // namespace ruvicorn
