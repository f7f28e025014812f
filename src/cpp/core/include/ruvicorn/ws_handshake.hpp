// The server side of the WebSocket opening handshake (RFC 6455 4.2): checking an upgrade request,
// computing Sec-WebSocket-Accept, negotiating permessage-deflate (RFC 7692 5 and 7.1) and writing
// the 101 response head. Allocation happens once per upgrade, never per frame.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/error.hpp"
#include "ruvicorn/header.hpp"
#include "ruvicorn/parser.hpp"

namespace ruvicorn {

// Server policy for permessage-deflate, filled from Config.
struct WsDeflateOptions {
  bool enabled = true;                      // --ws-per-message-deflate
  bool server_no_context_takeover = false;  // reset our compressor after every message
  int server_max_window_bits = 15;          // 9..15: our compressor's window (2^n bytes)
  int client_max_window_bits = 15;          // 8..15: smaller asks the client for a smaller window
                                            // (only when its offer allows that)
  int level = -1;                           // zlib level; -1: zlib's default (6)
  int mem_level = 8;                        // zlib memLevel 1..9 (memory per connection)
  std::size_t min_size = 0;                 // messages shorter than this are sent uncompressed
};

// What one connection uses after negotiation (enabled == false: no compression).
struct WsDeflateParams {
  bool enabled = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
  bool send_server_max_window_bits = false;  // name the parameter in the response
  bool send_client_max_window_bits = false;
  int level = -1;
  int mem_level = 8;
  std::size_t min_size = 0;

  // The Sec-WebSocket-Extensions response value: "permessage-deflate; ...".
  void append_response_value(std::string& out) const;
};

// Picks the first acceptable permessage-deflate offer among the request's Sec-WebSocket-Extensions
// headers. Offers with unknown, repeated or invalid parameters are declined (RFC 7692 5), as is
// server_max_window_bits=8 (zlib's raw deflate cannot make a 256-byte window). Returns whether one
// was accepted; `out` is then filled.
bool ws_negotiate_deflate(const Header* headers, std::size_t count,
                          const WsDeflateOptions& options, WsDeflateParams& out);

// A checked upgrade request. Views are slices of the request's headers.
struct WsUpgrade {
  std::string_view key;                    // Sec-WebSocket-Key
  char accept[28] = {};                    // Sec-WebSocket-Accept for the key
  std::vector<std::string_view> subprotocols;  // Sec-WebSocket-Protocol tokens, in offer order
  WsDeflateParams deflate;                 // negotiated extension (deflate.enabled)

  std::string_view accept_value() const { return {accept, sizeof(accept)}; }
};

// For a 426 answer the response must carry this header (RFC 6455 4.2.2).
inline constexpr std::string_view kWsVersionHeaderName = "Sec-WebSocket-Version";
inline constexpr std::string_view kWsVersionHeaderValue = "13";

// Checks an upgrade request (RFC 6455 4.2.1): GET, HTTP/1.1, "Upgrade: websocket", "Connection:
// upgrade", exactly one Sec-WebSocket-Key that is base64 of 16 bytes, and Sec-WebSocket-Version 13.
// Errors: 400, or 426 for a missing or other version (answer with kWsVersionHeader*). On success
// `out` holds the key, accept value, offered subprotocols and (when `deflate.enabled`) the
// negotiated extension.
HttpError ws_check_upgrade(std::string_view method, int http_minor, const Header* headers,
                           std::size_t count, const WsDeflateOptions& deflate, WsUpgrade& out);
inline HttpError ws_check_upgrade(const http1::RequestHead& head, const WsDeflateOptions& deflate,
                                  WsUpgrade& out) {
  return ws_check_upgrade(head.method, head.http_minor, head.headers, head.header_count, deflate,
                          out);
}

// RFC 8441: a WebSocket over an HTTP/2 stream, opened by an extended CONNECT with
// ":protocol: websocket". The same version, subprotocol and extension checks as ws_check_upgrade
// (no key, no accept value: the answer is a 200 whose fields the owner sends); `out.accept` stays
// empty.
HttpError ws_check_extended_connect(const Header* headers, std::size_t count,
                                    const WsDeflateOptions& deflate, WsUpgrade& out);

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)) (RFC 6455 4.2.2 item 5.4).
void ws_accept_value(std::string_view key, char (&out)[28]);

// The 101 response head, in three steps:
//   ws_begin_accept: status line, Upgrade, Connection, Sec-WebSocket-Accept, then
//     Sec-WebSocket-Protocol (when `subprotocol` is not empty; must be a token) and
//     Sec-WebSocket-Extensions (when deflate was negotiated);
//   ws_append_header: any further header (the app's, Date, Server), validated;
//   ws_end_head: the blank line.
// On an error the caller drops `out` (and answers 500).
HttpError ws_begin_accept(const WsUpgrade& upgrade, std::string_view subprotocol, std::string& out);
HttpError ws_append_header(std::string_view name, std::string_view value, std::string& out);
inline void ws_end_head(std::string& out) { out += "\r\n"; }

}  // namespace ruvicorn
