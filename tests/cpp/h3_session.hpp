// A client's side of an HTTP/3 connection for the core's tests: frames and sections to feed, a
// Handler that records events, and readers of what the server queued per stream.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../../src/cpp/core/http3/frame.hpp"
#include "ruvicorn/http3.hpp"
#include "ruvicorn/qpack.hpp"

namespace h3test {

using namespace ruvicorn;
using namespace ruvicorn::http3;
using Pairs = std::vector<std::pair<std::string, std::string>>;

inline std::string varint(std::uint64_t v) {
  std::string s;
  write_varint(s, v);
  return s;
}

inline std::string make_frame(std::uint64_t type, std::string_view payload) {
  std::string s;
  write_frame_header(s, type, payload.size());
  s.append(payload);
  return s;
}

inline std::string section(const Pairs& fields) {
  std::string s;
  qpack::Encoder::begin(s);
  for (const auto& [n, v] : fields) qpack::Encoder::field(n, v, s);
  return s;
}

inline std::string headers(const Pairs& fields) { return make_frame(frame::kHeaders, section(fields)); }

inline Pairs get(std::string path = "/", std::string method = "GET") {
  return {{":method", method}, {":scheme", "https"}, {":authority", "example.com"},
          {":path", path}};
}

inline std::string settings(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> s = {}) {
  std::string payload;
  for (const auto& [id, value] : s) {
    write_varint(payload, id);
    write_varint(payload, value);
  }
  return make_frame(frame::kSettings, payload);
}

struct Recorder : Handler {
  std::vector<std::string> log;
  std::map<std::uint64_t, Pairs> requests;
  std::map<std::uint64_t, std::string> bodies;
  Error error;
  void on_request(const Request& r) override {
    Pairs fields = {{":method", std::string(r.method)}, {":path", std::string(r.path)}};
    for (std::size_t i = 0; i < r.header_count; ++i) {
      fields.emplace_back(std::string(r.headers[i].name), std::string(r.headers[i].value));
    }
    requests[r.stream] = fields;
    log.push_back("request " + std::to_string(r.stream));
  }
  void on_data(std::uint64_t s, std::string_view data) override { bodies[s].append(data); }
  void on_end(std::uint64_t s) override { log.push_back("end " + std::to_string(s)); }
  void on_reset(std::uint64_t s) override { log.push_back("reset " + std::to_string(s)); }
  void on_goaway() override { log.push_back("goaway"); }
  void on_error(const Error& e) override {
    error = e;
    log.push_back("error " + std::string(error_code_name(e.code)));
  }
  bool saw(const std::string& event) const {
    for (const auto& e : log)
      if (e == event) return true;
    return false;
  }
};

// What the server queued, taken from output(): bytes per stream, FINs and signals.
struct Sent {
  std::map<std::uint64_t, std::string> data;
  std::map<std::uint64_t, bool> fin;
  std::vector<std::pair<std::string, std::uint64_t>> signals;  // ("reset"|"stop", stream)
  std::map<std::uint64_t, std::uint64_t> codes;                  // last signal code per stream

  void take(std::vector<Output>& out) {
    for (Output& o : out) {
      if (o.kind == Output::Kind::kData) {
        data[o.stream] += o.data;
        if (o.fin) fin[o.stream] = true;
      } else {
        signals.emplace_back(o.kind == Output::Kind::kReset ? "reset" : "stop", o.stream);
        codes[o.stream] = o.code;
      }
    }
    out.clear();
  }
  bool has(const std::string& kind, std::uint64_t stream, ErrorCode code) const {
    for (const auto& [k, s] : signals)
      if (k == kind && s == stream && codes.at(s) == static_cast<std::uint64_t>(code)) return true;
    return false;
  }
};

// The frames of one stream's bytes: (type, payload).
inline std::vector<std::pair<std::uint64_t, std::string>> frames_of(std::string_view bytes) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  while (!bytes.empty()) {
    FrameHeader h;
    if (!read_frame_header(bytes, h) || bytes.size() < h.size + h.length) break;
    out.emplace_back(h.type, std::string(bytes.substr(h.size, h.length)));
    bytes.remove_prefix(h.size + h.length);
  }
  return out;
}

inline Pairs decode(std::string_view sec) {
  qpack::Decoder d(1 << 20);
  std::vector<Header> fields;
  bool oversize = false;
  Pairs out;
  if (d.decode(sec, fields, oversize)) return {{"decode", "error"}};
  for (const Header& h : fields) out.emplace_back(std::string(h.name), std::string(h.value));
  return out;
}

inline std::string field(const Pairs& p, const std::string& name) {
  for (const auto& [n, v] : p)
    if (n == name) return v;
  return "<none>";
}

}  // namespace h3test
