// The opening handshake (RFC 6455 4.2) and permessage-deflate negotiation (RFC 7692 7.1).
#include <string>
#include <vector>

#include "check.hpp"
#include "ruvicorn/websocket.hpp"

using namespace ruvicorn;
using namespace ruvicorn::http1;

namespace {

std::vector<Header> good_headers() {
  return {{"Host", "server.example.com"},
          {"Upgrade", "websocket"},
          {"Connection", "keep-alive, Upgrade"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Sec-WebSocket-Version", "13"}};
}

HttpError upgrade(const std::vector<Header>& h, WsUpgrade& up, const WsDeflateOptions& o = {},
                std::string_view method = "GET", int minor = 1) {
  return ws_check_upgrade(method, minor, h.data(), h.size(), o, up);
}

// The negotiated response value for one Sec-WebSocket-Extensions header, or "-" when declined.
std::string negotiate(std::string_view offer, const WsDeflateOptions& o = {}) {
  const Header h{"Sec-WebSocket-Extensions", offer};
  WsDeflateParams p;
  if (!ws_negotiate_deflate(&h, 1, o, p)) return "-";
  std::string s;
  p.append_response_value(s);
  return s;
}

}  // namespace

TEST(accept_value_rfc6455_sample) {
  char accept[28];
  ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", accept);
  CHECK_EQ(std::string(accept, 28), std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

TEST(good_upgrade) {
  WsUpgrade up;
  auto h = good_headers();
  h.push_back({"Sec-WebSocket-Protocol", "chat, superchat"});
  h.push_back({"sec-websocket-protocol", "v2.json"});
  const HttpError e = upgrade(h, up);
  CHECK(!e);
  CHECK_EQ(std::string(up.accept_value()), std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
  CHECK_EQ(up.subprotocols.size(), 3u);
  if (up.subprotocols.size() == 3) {
    CHECK_EQ(up.subprotocols[0], std::string_view("chat"));
    CHECK_EQ(up.subprotocols[1], std::string_view("superchat"));
    CHECK_EQ(up.subprotocols[2], std::string_view("v2.json"));
  }
  CHECK(!up.deflate.enabled);
}

TEST(header_names_and_tokens_are_case_insensitive) {
  WsUpgrade up;
  std::vector<Header> h = {{"UPGRADE", "WebSocket"},
                           {"connection", "UPGRADE"},
                           {"SEC-WEBSOCKET-KEY", "dGhlIHNhbXBsZSBub25jZQ=="},
                           {"sec-websocket-version", "13"}};
  CHECK(!upgrade(h, up));
}

TEST(bad_requests) {
  WsUpgrade up;
  CHECK_EQ(upgrade(good_headers(), up, {}, "POST").status, 400);
  CHECK_EQ(upgrade(good_headers(), up, {}, "GET", 0).status, 400);
  for (const char* drop : {"Upgrade", "Connection", "Sec-WebSocket-Key"}) {
    auto h = good_headers();
    for (auto it = h.begin(); it != h.end(); ++it) {
      if (it->name == drop) {
        h.erase(it);
        break;
      }
    }
    CHECK_EQ(upgrade(h, up).status, 400);
  }
  auto h = good_headers();
  h[1].value = "h2c";
  CHECK_EQ(upgrade(h, up).status, 400);
  h = good_headers();
  h[2].value = "keep-alive";
  CHECK_EQ(upgrade(h, up).status, 400);
  h = good_headers();
  h.push_back({"Sec-WebSocket-Protocol", "bad protocol"});
  CHECK_EQ(upgrade(h, up).status, 400);
  h = good_headers();
  h.push_back({"Sec-WebSocket-Protocol", " , "});
  CHECK_EQ(upgrade(h, up).status, 400);
}

TEST(bad_keys) {
  WsUpgrade up;
  for (const char* key : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "Zm9vYmFy",
                          "dGhlIHNhbXBsZSBub25jZQAA", "dGhlIHNhbXBsZSBub25jZQ==dGhl",
                          "dGhlIHNhbXBsZSBub25jZR=="}) {
    auto h = good_headers();
    h[3].value = key;
    CHECK_EQ(upgrade(h, up).status, 400);
  }
  auto h = good_headers();
  h.push_back({"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="});  // twice
  CHECK_EQ(upgrade(h, up).status, 400);
}

TEST(wrong_version_is_426) {
  WsUpgrade up;
  auto h = good_headers();
  h[4].value = "8";
  HttpError e = upgrade(h, up);
  CHECK_EQ(e.status, 426);
  h.pop_back();
  CHECK_EQ(upgrade(h, up).status, 426);  // missing
  h = good_headers();
  h.push_back({"Sec-WebSocket-Version", "13"});  // repeated
  CHECK_EQ(upgrade(h, up).status, 426);
  CHECK_EQ(kWsVersionHeaderName, std::string_view("Sec-WebSocket-Version"));
  CHECK_EQ(kWsVersionHeaderValue, std::string_view("13"));
}

TEST(accept_head) {
  WsUpgrade up;
  auto h = good_headers();
  h.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"});
  CHECK(!upgrade(h, up));
  CHECK(up.deflate.enabled);
  std::string out;
  CHECK(!ws_begin_accept(up, "chat", out));
  CHECK(!ws_append_header("X-Extra", "1", out));
  CHECK(ws_append_header("Bad Name", "1", out).status == 500);
  CHECK(ws_append_header("X-Bad", "a\r\nb", out).status == 500);
  ws_end_head(out);
  CHECK_EQ(out, std::string("HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                            "Sec-WebSocket-Protocol: chat\r\n"
                            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                            "X-Extra: 1\r\n"
                            "\r\n"));
  std::string bad;
  CHECK_EQ(ws_begin_accept(up, "a b", bad).status, 500);
}

TEST(accept_head_without_extensions) {
  WsUpgrade up;
  WsDeflateOptions off;
  off.enabled = false;
  auto h = good_headers();
  h.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
  CHECK(!upgrade(h, up, off));
  CHECK(!up.deflate.enabled);
  std::string out;
  CHECK(!ws_begin_accept(up, "", out));
  ws_end_head(out);
  CHECK(out.find("Sec-WebSocket-Extensions") == std::string::npos);
  CHECK(out.find("Sec-WebSocket-Protocol") == std::string::npos);
}

TEST(deflate_plain_offers) {
  CHECK_EQ(negotiate("permessage-deflate"), std::string("permessage-deflate"));
  CHECK_EQ(negotiate("permessage-deflate; client_max_window_bits"),
           std::string("permessage-deflate"));
  CHECK_EQ(negotiate("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"),
           std::string("permessage-deflate"));
  CHECK_EQ(negotiate("foo"), std::string("-"));
  CHECK_EQ(negotiate(""), std::string("-"));
  CHECK_EQ(negotiate("PerMessage-Deflate"), std::string("permessage-deflate"));
}

TEST(deflate_context_takeover) {
  CHECK_EQ(negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
           std::string("permessage-deflate; server_no_context_takeover; "
                       "client_no_context_takeover"));
  WsDeflateOptions o;
  o.server_no_context_takeover = true;
  CHECK_EQ(negotiate("permessage-deflate", o),
           std::string("permessage-deflate; server_no_context_takeover"));
  const Header h{"Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover"};
  WsDeflateParams p;
  CHECK(ws_negotiate_deflate(&h, 1, {}, p));
  CHECK(p.client_no_context_takeover);
  CHECK(!p.server_no_context_takeover);
}

TEST(deflate_window_bits) {
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=10"),
           std::string("permessage-deflate; server_max_window_bits=10"));
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=\"12\""),
           std::string("permessage-deflate; server_max_window_bits=12"));
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=15"),
           std::string("permessage-deflate; server_max_window_bits=15"));
  // 8 cannot be honoured with zlib: decline that offer, take the fallback.
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate"),
           std::string("permessage-deflate"));
  WsDeflateOptions o;
  o.server_max_window_bits = 11;
  o.client_max_window_bits = 12;
  CHECK_EQ(negotiate("permessage-deflate", o),
           std::string("permessage-deflate; server_max_window_bits=11"));
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=9", o),
           std::string("permessage-deflate; server_max_window_bits=9"));
  CHECK_EQ(negotiate("permessage-deflate; client_max_window_bits", o),
           std::string("permessage-deflate; server_max_window_bits=11; client_max_window_bits=12"));
  CHECK_EQ(negotiate("permessage-deflate; client_max_window_bits=10", o),
           std::string("permessage-deflate; server_max_window_bits=11; client_max_window_bits=10"));
  const Header h{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=10"};
  WsDeflateParams p;
  CHECK(ws_negotiate_deflate(&h, 1, o, p));
  CHECK_EQ(p.client_max_window_bits, 10);
  CHECK_EQ(p.server_max_window_bits, 11);
}

TEST(deflate_invalid_offers_declined) {
  for (const char* params :
       {"server_max_window_bits", "server_max_window_bits=16", "server_max_window_bits=7",
        "server_max_window_bits=010", "client_max_window_bits=16", "client_max_window_bits=",
        "server_no_context_takeover=1", "server_no_context_takeover; server_no_context_takeover",
        "client_max_window_bits; client_max_window_bits=10", "unknown",
        "server_max_window_bits=\"10", "server_max_window_bits=\"1\\0\"", "", " x"}) {
    const std::string offer = std::string("permessage-deflate;") + params;
    CHECK_EQ(negotiate(offer), std::string("-"));
  }
  CHECK_EQ(negotiate("permessage-deflate x"), std::string("-"));
  CHECK_EQ(negotiate("permessage-deflate; server_max_window_bits=10 x"), std::string("-"));
}

TEST(deflate_offers_across_headers) {
  std::vector<Header> h = {{"Sec-WebSocket-Extensions", "permessage-deflate; bogus"},
                           {"X", "y"},
                           {"sec-websocket-extensions",
                            "permessage-deflate; server_max_window_bits=13"}};
  WsDeflateParams p;
  CHECK(ws_negotiate_deflate(h.data(), h.size(), {}, p));
  CHECK_EQ(p.server_max_window_bits, 13);
  WsDeflateOptions off;
  off.enabled = false;
  CHECK(!ws_negotiate_deflate(h.data(), h.size(), off, p));
  CHECK(!p.enabled);
}

CHECK_MAIN()
