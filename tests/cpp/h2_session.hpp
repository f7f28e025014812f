// Test helpers for the HTTP/2 connection: a Handler that records events (and can act from inside
// them, as an owner does), and a client side that encodes requests with the HPACK encoder, feeds
// the connection and decodes what it answers.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "h2_frames.hpp"
#include "ruvicorn/hpack.hpp"
#include "ruvicorn/http2.hpp"

namespace h2test {

using ruvicorn::http2::Connection;
using ruvicorn::http2::ErrorCode;
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Recorder : ruvicorn::http2::Handler {
  std::vector<std::string> events;  // "request:1 GET /p?q", "data:1:xyz", "end:1", "reset:1:8", ...
  std::vector<Fields> requests;     // regular fields of each request, in order
  std::vector<ruvicorn::http2::Request> heads;  // copies (views dead after the call)
  std::string protocol;
  std::function<void(const ruvicorn::http2::Request&)> on_request_hook;
  std::function<void(std::uint32_t)> on_reset_hook;
  std::function<void(std::uint32_t)> on_writable_hook;
  std::size_t data_bytes = 0;
  ruvicorn::http2::Error error;

  void on_request(const ruvicorn::http2::Request& r) override {
    std::string e = "request:" + std::to_string(r.stream) + " " + std::string(r.method) + " " +
                    std::string(r.path);
    if (!r.query.empty()) e += "?" + std::string(r.query);
    events.push_back(e);
    Fields f;
    for (std::size_t i = 0; i < r.header_count; ++i)
      f.emplace_back(std::string(r.headers[i].name), std::string(r.headers[i].value));
    requests.push_back(std::move(f));
    heads.push_back(r);
    protocol = std::string(r.protocol);
    if (on_request_hook) on_request_hook(r);
  }
  void on_data(std::uint32_t stream, std::string_view data) override {
    data_bytes += data.size();
    events.push_back("data:" + std::to_string(stream) + ":" + std::string(data.substr(0, 32)));
  }
  void on_end(std::uint32_t stream) override { events.push_back("end:" + std::to_string(stream)); }
  void on_reset(std::uint32_t stream, ErrorCode code) override {
    events.push_back("reset:" + std::to_string(stream) + ":" + std::to_string(int(code)));
    if (on_reset_hook) on_reset_hook(stream);
  }
  void on_writable(std::uint32_t stream) override {
    events.push_back("writable:" + std::to_string(stream));
    if (on_writable_hook) on_writable_hook(stream);
  }
  void on_goaway(ErrorCode code, std::uint32_t last) override {
    events.push_back("goaway:" + std::to_string(int(code)) + ":" + std::to_string(last));
  }
  void on_error(const ruvicorn::http2::Error& e) override {
    error = e;
    events.push_back("error:" + std::string(ruvicorn::http2::error_code_name(e.code)));
  }
  bool has(std::string_view prefix) const {
    for (const auto& e : events)
      if (e.compare(0, prefix.size(), prefix) == 0) return true;
    return false;
  }
  std::string joined() const {
    std::string s;
    for (const auto& e : events) s += (s.empty() ? "" : "|") + e;
    return s;
  }
};

// One HEADERS block as the client decodes it.
struct Response {
  std::uint32_t stream = 0;
  bool end_stream = false;
  Fields fields;
  std::string get(std::string_view name) const {
    for (const auto& [n, v] : fields)
      if (n == name) return v;
    return "<none>";
  }
};

class Session {
 public:
  explicit Session(std::function<void(ruvicorn::Limits&)> tweak = {},
                   bool connect_protocol = false) {
    limits.max_body_size = 0;
    if (tweak) tweak(limits);
    conn = std::make_unique<Connection>(limits, config, connect_protocol);
  }

  // Preface exchange: our SETTINGS (and its ACK), theirs.
  std::vector<Frame> handshake(std::string client_settings = settings({})) {
    conn->start();
    feed(std::string(ruvicorn::http2::kPreface) + client_settings + settings_ack());
    return read();
  }
  void feed(std::string_view bytes) { conn->feed(bytes, rec, now); }
  // The server's output, as frames.
  std::vector<Frame> read() {
    pending += conn->output();
    conn->output().clear();
    return parse_frames(pending);
  }

  std::string block(const Fields& fields) {
    std::string out;
    client_encoder.begin(out);
    for (const auto& [n, v] : fields) client_encoder.field(n, v, out);
    return out;
  }
  static Fields get(std::string_view path = "/", std::string_view method = "GET") {
    return {{":method", std::string(method)}, {":scheme", "http"}, {":authority", "example.com"},
            {":path", std::string(path)}};
  }
  std::string request(std::uint32_t stream, const Fields& fields, bool end_stream = true) {
    return headers(stream, block(fields), end_stream);
  }

  // Decodes the HEADERS (+CONTINUATION) blocks among `frames`.
  std::vector<Response> responses(const std::vector<Frame>& frames) {
    std::vector<Response> out;
    std::string block_bytes;
    Response current;
    for (const Frame& f : frames) {
      if (f.type == 0x1) {
        current = Response{};
        current.stream = f.stream;
        current.end_stream = (f.flags & 0x1) != 0;
        block_bytes = f.payload;
      } else if (f.type == 0x9) {
        block_bytes += f.payload;
      } else {
        continue;
      }
      if ((f.flags & 0x4) == 0) continue;
      std::vector<ruvicorn::Header> fields;
      bool oversize = false;
      if (client_decoder.decode(block_bytes, fields, oversize)) {
        current.fields.emplace_back("<decode error>", "");
      }
      for (const auto& h : fields)
        current.fields.emplace_back(std::string(h.name), std::string(h.value));
      out.push_back(current);
    }
    return out;
  }

  // Sends a complete response on `stream` (head, one DATA with END_STREAM).
  void respond(std::uint32_t stream, int status, std::string_view body, bool head = false) {
    check_ok(conn->begin_response(stream, status, head));
    check_ok(conn->response_field("content-type", "text/plain"));
    check_ok(conn->end_response(false));
    check_ok(conn->data(stream, body, true));
  }
  static void check_ok(const ruvicorn::HttpError& e) {
    if (e) {
      std::fprintf(stderr, "unexpected app error: %.*s\n", int(e.reason.size()), e.reason.data());
    }
  }

  ruvicorn::Limits limits;
  ruvicorn::ResponseConfig config;
  std::unique_ptr<Connection> conn;
  Recorder rec;
  ruvicorn::hpack::Encoder client_encoder;
  ruvicorn::hpack::Decoder client_decoder{4096, 1 << 24};
  std::string pending;
  double now = 0;
};

// Frames of a given type (and stream, unless 0xffffffff) among `frames`.
inline std::vector<Frame> of_type(const std::vector<Frame>& frames, std::uint8_t type,
                                  std::uint32_t stream = 0xffffffff) {
  std::vector<Frame> out;
  for (const Frame& f : frames)
    if (f.type == type && (stream == 0xffffffff || f.stream == stream)) out.push_back(f);
  return out;
}

// The code of the GOAWAY among `frames`, or -1.
inline int goaway_code(const std::vector<Frame>& frames) {
  for (const Frame& f : frames)
    if (f.type == 0x7) return int(f.u32(4));
  return -1;
}
// The code of the RST_STREAM on `stream`, or -1.
inline int rst_code(const std::vector<Frame>& frames, std::uint32_t stream) {
  for (const Frame& f : frames)
    if (f.type == 0x3 && f.stream == stream) return int(f.u32());
  return -1;
}
inline std::string body_of(const std::vector<Frame>& frames, std::uint32_t stream) {
  std::string s;
  for (const Frame& f : frames)
    if (f.type == 0x0 && f.stream == stream) s += f.payload;
  return s;
}

// An HPACK integer with an N-bit prefix (RFC 7541 5.1); `flags` are the bits above the prefix.
inline std::string hpack_int(std::uint8_t flags, int prefix_bits, std::size_t value) {
  std::string s;
  const std::size_t max = (1u << prefix_bits) - 1;
  if (value < max) {
    s += char(flags | value);
    return s;
  }
  s += char(flags | max);
  value -= max;
  while (value >= 128) {
    s += char(0x80 | (value & 0x7f));
    value >>= 7;
  }
  s += char(value);
  return s;
}

// An HPACK literal with a new name and no Huffman coding (RFC 7541 6.2): without indexing by
// default (any bytes at all), with incremental indexing when `index` is set.
inline std::string literal(std::string_view name, std::string_view value, bool index = false) {
  std::string s(1, char(index ? 0x40 : 0x00));
  s += hpack_int(0, 7, name.size());
  s.append(name);
  s += hpack_int(0, 7, value.size());
  s.append(value);
  return s;
}

}  // namespace h2test
