// Fuzz target for the whole HTTP/3 server connection (ruvicorn/http3.hpp). Byte 0 picks the
// limits, byte 1 seeds the owner's choices and the split points; the rest is a little program
// whose op bytes build what a client does on its streams (requests QPACK-encoded, DATA, FINs,
// resets, STOP_SENDING, control frames and settings, QPACK stream instructions, unknown frames and
// stream types, raw bytes, time steps). Each stream's bytes are fed in random pieces; between
// them an owner answers, sends data and trailers, resets, consumes, releases and goes away at
// random.
//
// Invariants: nothing is delivered after on_error; a stream's events come in order (request,
// data*, end) and stop at its on_reset or release(); the streams holding slots never exceed the
// limit; the output
// is well-formed: nothing is sent on a stream after its FIN or RESET_STREAM, each stream's bytes
// parse into frames whose HEADERS decode, and output stays within a bound of input and answers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "http3/frame.hpp"
#include "ruvicorn/http3.hpp"
#include "ruvicorn/qpack.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace ruvicorn;
using namespace ruvicorn::http3;

using fuzz::Rng;
using fuzz::violated;

std::string make_frame(std::uint64_t type, std::string_view payload) {
  std::string s;
  write_frame_header(s, type, payload.size());
  s.append(payload);
  return s;
}

struct Action {
  enum Kind { kFeed, kReset, kStop, kTime, kOwner } kind;
  std::uint64_t stream = 0;
  std::string bytes;
  bool fin = false;
};

class Program {
 public:
  explicit Program(std::string_view in) : in_(in) {}
  std::vector<Action> build() {
    std::vector<Action> out;
    while (i_ < in_.size() && out.size() < 256) {
      const unsigned op = next();
      const std::uint64_t req = (next() % 12) * 4;       // request streams 0..44
      const std::uint64_t uni = 2 + (next() % 6) * 4;    // client uni streams 2..22
      switch (op % 14) {
        case 0: case 1: {
          std::string sec;
          qpack::Encoder::begin(sec);
          static const char* kMethods[] = {"GET", "POST", "HEAD", "CONNECT", "get"};
          qpack::Encoder::field(":method", kMethods[next() % 5], sec);
          if (next() % 8) qpack::Encoder::field(":scheme", "https", sec);
          if (next() % 8) qpack::Encoder::field(":path", (op & 0x40) ? "/a?b" : "/", sec);
          if (next() % 2) qpack::Encoder::field(":authority", "h", sec);
          if (next() % 4 == 0) qpack::Encoder::field("content-length", std::to_string(next() % 20), sec);
          if (next() % 8 == 0) qpack::Encoder::field("cookie", "c=1", sec);
          if (next() % 16 == 0) qpack::Encoder::field("Bad", "x", sec);
          out.push_back({Action::kFeed, req, make_frame(frame::kHeaders, sec), (op & 0x80) != 0});
          break;
        }
        case 2: case 3:
          out.push_back({Action::kFeed, req, make_frame(frame::kData, std::string(next() % 24, 'd')),
                         (op & 0x80) != 0});
          break;
        case 4: out.push_back({Action::kFeed, req, "", true}); break;
        case 5: out.push_back({(op & 0x80) ? Action::kReset : Action::kStop, req, "", false}); break;
        case 6: {  // the control stream: type, then frames
          std::string b;
          if (!control_started_ || (op & 0x80)) {
            write_varint(b, 0);
            control_started_ = true;
          }
          static const std::uint64_t kTypes[] = {frame::kSettings, frame::kGoaway, frame::kMaxPushId,
                                                 frame::kCancelPush, frame::kData, 0x21, 0x2};
          std::string p;
          const unsigned n = next() % 3;
          for (unsigned k = 0; k < n; ++k) write_varint(p, next() % 10);
          b += make_frame(kTypes[next() % 7], p);
          out.push_back({Action::kFeed, 2, b, (op & 0x40) != 0 && next() % 8 == 0});
          break;
        }
        case 7: {  // another unidirectional stream: a type and some bytes
          std::string b;
          write_varint(b, next() % 5 == 4 ? 0x21 : next() % 4);
          b.push_back(static_cast<char>(next()));
          out.push_back({Action::kFeed, uni, b, (op & 0x80) != 0});
          break;
        }
        case 8: {  // raw bytes
          const std::size_t n = next() % 24;
          out.push_back({Action::kFeed, (op & 0x80) ? uni : req,
                         std::string(in_.substr(std::min(i_, in_.size()), n)), false});
          i_ += n;
          break;
        }
        case 9:
          out.push_back({Action::kFeed, req, make_frame(0x21 + 0x1f * (next() % 3), "u"), false});
          break;
        case 10: {  // trailers
          std::string sec;
          qpack::Encoder::begin(sec);
          qpack::Encoder::field("x-t", "1", sec);
          out.push_back({Action::kFeed, req, make_frame(frame::kHeaders, sec), (op & 0x80) != 0});
          break;
        }
        case 11: out.push_back({Action::kTime, 0, "", false}); break;
        default: out.push_back({Action::kOwner, req, "", false}); break;
      }
    }
    return out;
  }

 private:
  unsigned next() { return i_ < in_.size() ? static_cast<unsigned char>(in_[i_++]) : 0; }
  std::string_view in_;
  std::size_t i_ = 0;
  bool control_started_ = false;
};

struct StreamState {
  bool requested = false, ended = false, reset = false, released = false;
  bool answered = false;  // the owner started a response
};

struct Owner : Handler {
  Connection* conn = nullptr;
  bool errored = false;
  std::map<std::uint64_t, StreamState> streams;
  std::uint64_t delivered_bytes = 0;
  void on_request(const Request& r) override {
    if (errored) violated("request after on_error");
    StreamState& s = streams[r.stream];
    if (s.requested) violated("second request on a stream");
    s.requested = true;
    if (r.header_count > 0 && r.headers == nullptr) violated("headers without storage");
  }
  void on_data(std::uint64_t id, std::string_view data) override {
    if (errored) violated("data after on_error");
    StreamState& s = streams[id];
    if (!s.requested || s.ended || s.reset || s.released) violated("data out of order");
    delivered_bytes += data.size();
  }
  void on_end(std::uint64_t id) override {
    if (errored) violated("end after on_error");
    StreamState& s = streams[id];
    if (!s.requested || s.ended || s.reset || s.released) violated("end out of order");
    s.ended = true;
  }
  void on_reset(std::uint64_t id) override {
    StreamState& s = streams[id];
    if (!s.requested || s.reset || s.released) violated("reset out of order");
    s.reset = true;
  }
  void on_goaway() override {}
  void on_error(const Error&) override {
    if (errored) violated("second on_error");
    errored = true;
  }
};

// Checks the output and tallies its bytes.
struct Wire {
  std::set<std::uint64_t> closed;  // FIN or RESET_STREAM sent
  std::map<std::uint64_t, std::string> bytes;
  std::size_t total = 0;
  void take(std::vector<Output>& out) {
    for (Output& o : out) {
      if (o.kind == Output::Kind::kStopSending) continue;
      if (closed.count(o.stream)) violated("output on a stream after its FIN or reset");
      if (o.kind == Output::Kind::kReset) {
        closed.insert(o.stream);
        continue;
      }
      total += o.data.size();
      bytes[o.stream] += o.data;
      if (o.fin) closed.insert(o.stream);
    }
    out.clear();
  }
  void check_frames() const {
    for (const auto& [id, b] : bytes) {
      std::string_view rest = b;
      if (id % 4 == 3) {  // our control stream: its type first
        std::uint64_t type;
        const std::size_t n = read_varint(rest, type);
        if (n == 0 || type != 0) violated("control stream without its type");
        rest.remove_prefix(n);
      }
      while (!rest.empty()) {
        FrameHeader h;
        if (!read_frame_header(rest, h) || rest.size() - h.size < h.length) {
          violated("a truncated frame in the output");
        }
        if (h.type == frame::kHeaders) {
          qpack::Decoder d(1 << 20);
          std::vector<Header> fields;
          bool oversize;
          if (d.decode(rest.substr(h.size, h.length), fields, oversize)) violated("bad section");
        }
        rest.remove_prefix(h.size + h.length);
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Limits limits;
  const unsigned choice = data[0];
  limits.h3_max_concurrent_streams = 1 + choice % 5;
  limits.h3_max_field_section_size = (choice & 0x08) ? 64 : 65536;
  limits.max_body_size = (choice & 0x10) ? 16 : 0;
  limits.h2_reset_burst = (choice & 0x20) ? 3 : 1000;
  limits.h2_glitch_burst = (choice & 0x40) ? 4 : 1000;
  ResponseConfig config;
  config.date_header = false;
  Rng rng{data[1] * 0x9e3779b97f4a7c15ull + 1};
  Connection conn(limits, config);
  Owner owner;
  owner.conn = &conn;
  Wire wire;
  conn.start(3);
  std::size_t input = 0, answered = 0;
  double now = 1;

  auto owner_step = [&](std::uint64_t pick) {
    auto it = owner.streams.lower_bound(pick);
    if (it == owner.streams.end()) it = owner.streams.begin();
    if (it == owner.streams.end()) return;
    const std::uint64_t id = it->first;
    StreamState& s = it->second;
    if (!s.requested || s.released) return;
    switch (rng.below(8)) {
      case 0: case 1: {
        if (s.answered) break;
        s.answered = true;
        conn.begin_response(id, rng.below(2) ? 200 : 204, rng.below(4) == 0);
        conn.response_field("content-type", "text/plain");
        if (rng.below(3) == 0) conn.response_field("content-length", "3");
        conn.end_response(rng.below(4) == 0);
        answered += 64;
        break;
      }
      case 2: conn.data(id, "abc", rng.below(2) == 0); answered += 16; break;
      case 3: conn.trailers(id, {{"x-t", "v"}}); answered += 16; break;
      case 4: conn.informational(id, 103, {{"link", "</x>"}}); answered += 32; break;
      case 5: conn.reset(id, ErrorCode::kInternalError); break;
      case 6: conn.consume(id, rng.below(40)); break;
      default:
        conn.release(id);
        s.released = true;
        break;
    }
  };

  for (const Action& a : Program(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2)).build()) {
    switch (a.kind) {
      case Action::kFeed: {
        input += a.bytes.size();
        std::string_view rest = a.bytes;
        while (!rest.empty()) {
          const std::size_t n = 1 + rng.below(static_cast<std::uint32_t>(rest.size()));
          conn.feed(a.stream, rest.substr(0, n), a.fin && n == rest.size(), owner, now);
          rest.remove_prefix(n);
        }
        if (a.bytes.empty()) conn.feed(a.stream, "", a.fin, owner, now);
        break;
      }
      case Action::kReset: conn.stream_reset(a.stream, owner, now); break;
      case Action::kStop: conn.stop_sending(a.stream, owner, now); break;
      case Action::kTime:
        now += 5;
        conn.expire_heads(now, 10);
        if (rng.below(8) == 0) conn.goaway();
        break;
      case Action::kOwner: owner_step(a.stream); break;
    }
    wire.take(conn.output());
    if (conn.active_streams() > limits.h3_max_concurrent_streams) violated("over the stream limit");
    if (wire.total > 4096 + 1024 * (input + answered)) violated("output out of proportion");
  }
  wire.check_frames();
  return 0;
}
