// Fuzz target for the whole HTTP/2 server connection (ruvicorn/http2.hpp). Byte 0 picks the
// limits, byte 1 seeds the owner's choices and the split points; the rest is a little program
// whose op bytes build client frames (requests HPACK-encoded by a client encoder, DATA, resets,
// settings, pings, window updates, priorities, stray continuations, raw bytes, time steps), so
// that mutations reach deep states rather than the first error. The preface and the stream of
// frames are fed in random pieces; between pieces and from inside the callbacks, an owner
// answers, sends data (some of it framed into the owner's own buffers) and trailers, resets,
// consumes, releases, pauses and resumes, and trims at random.
//
// Invariants: nothing is delivered after on_error; a stream's events come in order (request,
// data*, end) and stop at its on_reset or release(); stream ids of requests increase; the
// streams holding slots never exceed the concurrency limit; output stays within a bound of the
// input and of what the owner submitted; the output is well-formed HTTP/2: frames parse, header
// blocks decode with a client's HPACK decoder, CONTINUATIONs follow their HEADERS, nothing is
// sent on a stream after its END_STREAM or RST_STREAM, nothing after a GOAWAY with an error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/hpack.hpp"
#include "ruvicorn/http2.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace ruvicorn;
using namespace ruvicorn::http2;

// FUZZ_H2_TRACE=1 prints the owner's actions and the server's frames (for reading a crash).
bool trace() {
  static const bool on = std::getenv("FUZZ_H2_TRACE") != nullptr;
  return on;
}

using fuzz::Rng;
using fuzz::violated;

// --- client frames ----------------------------------------------------------------------------

void put32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>(v >> shift);
}
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view p) {
  std::string s;
  s += static_cast<char>(p.size() >> 16);
  s += static_cast<char>(p.size() >> 8);
  s += static_cast<char>(p.size());
  s += static_cast<char>(type);
  s += static_cast<char>(flags);
  put32(s, stream);
  s.append(p);
  return s;
}

class Program {
 public:
  explicit Program(std::string_view in) : in_(in) {}
  // Client bytes and the time of each piece: (bytes, now).
  std::vector<std::pair<std::string, double>> build() {
    std::vector<std::pair<std::string, double>> out;
    std::string cur(kPreface);
    cur += frame(0x4, 0, 0, "");
    double now = 0;
    while (i_ < in_.size() && out.size() < 64) {
      const unsigned op = next();
      switch (op % 16) {
        case 0: case 1: case 2: cur += request(op); break;
        case 3: case 4: {  // DATA, maybe padded
          const std::uint32_t id = stream();
          const std::size_t len = (next() % 4 == 0) ? next() * 64 : next() % 40;
          std::string p(len, 'd');
          std::uint8_t flags = next() & 0x1;
          if (op & 0x40) {
            flags |= 0x8;
            const unsigned pad = next() % 8;
            p = std::string(1, static_cast<char>(pad)) + p + std::string(pad, '\0');
          }
          cur += frame(0x0, flags, id, p);
          break;
        }
        case 5: {
          std::string p;
          put32(p, next() % 16);
          cur += frame(0x3, 0, stream(), p);
          break;
        }
        case 6: {  // SETTINGS with a few entries, some invalid
          static const std::uint16_t kIds[] = {1, 2, 3, 4, 5, 6, 8, 0x99};
          std::string p;
          const unsigned n = next() % 4;
          for (unsigned k = 0; k < n; ++k) {
            const std::uint16_t id = kIds[next() % 8];
            static const std::uint32_t kValues[] = {0, 1, 2, 100, 16384, 65535, 65536, 1u << 20,
                                                    0x7fffffff, 0x80000000u, 1u << 24};
            p += static_cast<char>(id >> 8);
            p += static_cast<char>(id);
            put32(p, kValues[next() % 11]);
          }
          cur += frame(0x4, (op & 0x80) ? 0x1 : 0, 0, (op & 0x80) ? "" : p);
          break;
        }
        case 7: cur += frame(0x6, (op & 0x80) ? 1 : 0, 0, "pingpong"); break;
        case 8: {
          std::string p;
          static const std::uint32_t kInc[] = {0, 1, 100, 16384, 65535, 1u << 20, 0x7fffffff};
          put32(p, kInc[next() % 7]);
          cur += frame(0x8, 0, (op & 0x80) ? 0 : stream(), p);
          break;
        }
        case 9: {
          std::string p;
          put32(p, (op & 0x80) ? stream() : next());
          p += static_cast<char>(next());
          cur += frame(0x2, 0, stream(), p);
          break;
        }
        case 10: {  // raw bytes
          const std::size_t n = next() % 32;
          cur.append(in_.substr(std::min(i_, in_.size()), n));
          i_ += n;
          break;
        }
        case 11:  // a piece ends here; time moves on
          out.emplace_back(cur, now);
          cur.clear();
          now += (next() % 8) * 0.25;
          break;
        case 12: {  // trailers, or HEADERS on an old stream
          cur += frame(0x1, 0x5 | ((op & 0x80) ? 0 : 0), stream(), block_of({{"x-trailer", "1"}}));
          break;
        }
        case 13: {  // HEADERS with raw HPACK bytes from the input
          const std::size_t n = next() % 24;
          const std::uint8_t flags = 0x4 | (next() & 1);
          cur += frame(0x1, flags, new_stream(), in_.substr(std::min(i_, in_.size()), n));
          i_ += n;
          break;
        }
        case 14: cur += frame(0x9, (op & 0x80) ? 0x4 : 0, stream(), "\x82"); break;
        default: {
          std::string p;
          put32(p, last_);
          put32(p, next() % 14);
          cur += frame((op & 0x80) ? 0x7 : static_cast<std::uint8_t>(0x20 + op % 8), 0, 0, p);
          break;
        }
      }
    }
    out.emplace_back(cur, now);
    return out;
  }

 private:
  unsigned next() { return i_ < in_.size() ? static_cast<unsigned char>(in_[i_++]) : 0; }
  std::uint32_t new_stream() { return last_ += 2; }
  std::uint32_t stream() {  // a recent stream, a new one, or 0 now and then
    const unsigned r = next();
    if (r % 16 == 0) return 0;
    if (r % 4 == 0) return new_stream();
    const std::uint32_t back = 2 * ((r >> 2) % 4);
    return last_ > back ? last_ - back : 1;
  }
  std::string block_of(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string b;
    encoder_.begin(b);
    for (const auto& [n, v] : fields) encoder_.field(n, v, b);
    return b;
  }
  std::string request(unsigned op) {
    static const char* const kMethods[] = {"GET", "POST", "HEAD", "CONNECT", "OPTIONS"};
    static const char* const kPaths[] = {"/", "/a?b=c", "*", "", "x"};
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", kMethods[next() % 5]}, {":scheme", "http"}, {":path", kPaths[next() % 5]},
        {":authority", "example.com"}};
    const unsigned extra = next() % 6;
    for (unsigned k = 0; k < extra; ++k) {
      static const char* const kNames[] = {"cookie", "content-length", "te", "host", "x-a",
                                           "connection", ":protocol", "expect"};
      static const char* const kValues[] = {"a=b", "5", "trailers", "example.com", "0",
                                            "100-continue", "websocket", "x"};
      fields.emplace_back(kNames[next() % 8], kValues[next() % 8]);
    }
    if (op & 0x80) fields.emplace_back("x-big", std::string(next() * 40, 'v'));
    const std::string b = block_of(fields);
    const std::uint32_t id = (op & 0x40) ? stream() : new_stream();
    const std::uint8_t end_stream = (op & 0x20) ? 0x1 : 0;
    const std::size_t pieces = 1 + next() % 3;
    if (pieces == 1 || b.size() < pieces) return frame(0x1, 0x4 | end_stream, id, b);
    std::string s;
    const std::size_t step = b.size() / pieces;
    s += frame(0x1, end_stream, id, std::string_view(b).substr(0, step));
    for (std::size_t k = 1; k < pieces; ++k) {
      const bool last = k + 1 == pieces;
      s += frame(0x9, last ? 0x4 : 0, id,
                 std::string_view(b).substr(k * step, last ? std::string::npos : step));
    }
    return s;
  }

  std::string_view in_;
  std::size_t i_ = 0;
  std::uint32_t last_ = 1;
  hpack::Encoder encoder_;
};

// --- the owner --------------------------------------------------------------------------------

struct StreamModel {
  bool ended = false;     // on_end seen
  bool reset = false;     // on_reset seen
  bool released = false;
  bool responded = false; // the owner began a response
  std::size_t queued = 0; // body bytes submitted
};

// The owner's memory for DATA framed without output() (Connection::data with a buffer);
// sometimes there is none.
struct DirectBuffer : OutputBuffer {
  std::string bytes;
  bool refuse = false;
  char* allocate(std::size_t n) override {
    if (refuse) return nullptr;
    bytes.assign(n, '\0');
    return bytes.data();
  }
};

struct Owner : Handler {
  Connection* conn = nullptr;
  const Limits* limits = nullptr;
  Rng rng{1};
  std::map<std::uint32_t, StreamModel> streams;
  std::uint32_t last_request = 0;
  bool errored = false;
  std::size_t submitted = 0;  // bytes the owner made the connection produce (bodies, heads), in all
  std::string written;        // direct buffers, in order: they go out before output()

  std::size_t output_size() const { return written.size() + conn->output().size(); }

  void alive() {
    if (errored) violated("event after on_error");
  }
  StreamModel& live(std::uint32_t id, const char* what) {
    alive();
    if (trace()) std::fprintf(stderr, "event on stream %u (%s)\n", id, what);
    auto it = streams.find(id);
    if (it == streams.end()) violated(what);
    if (it->second.reset || it->second.released) violated("event for a reset or released stream");
    return it->second;
  }
  void on_request(const Request& r) override {
    alive();
    if (trace()) std::fprintf(stderr, "request on stream %u\n", r.stream);
    if (r.stream % 2 == 0 || r.stream <= last_request)
      violated("request ids must be odd and increase");
    last_request = r.stream;
    if (r.method.empty() || (r.method != "CONNECT" && r.path.empty()))
      violated("incomplete request");
    streams[r.stream] = StreamModel{};
    if (conn->active_streams() > limits->h2_max_concurrent_streams) violated("too many slots");
    if (rng.below(3) == 0) act(r.stream);
  }
  void on_data(std::uint32_t id, std::string_view data) override {
    StreamModel& s = live(id, "data for an unknown stream");
    if (s.ended) violated("data after end");
    if (data.empty()) violated("empty data event");
    if (rng.below(2) == 0) conn->consume(id, data.size());
  }
  void on_end(std::uint32_t id) override {
    StreamModel& s = live(id, "end for an unknown stream");
    if (s.ended) violated("end twice");
    s.ended = true;
    if (rng.below(2) == 0) act(id);
  }
  void on_reset(std::uint32_t id, ErrorCode) override {
    StreamModel& s = live(id, "reset of an unknown stream");
    s.reset = true;
    if (rng.below(2) == 0) release(id);
  }
  void on_writable(std::uint32_t id) override {
    alive();
    if (streams.find(id) == streams.end()) violated("writable for an unknown stream");
    if (rng.below(2) == 0) act(id);
  }
  void on_goaway(ErrorCode, std::uint32_t) override { alive(); }
  void on_error(const Error& e) override {
    alive();
    if (!e.connection) violated("on_error with a stream error");
    errored = true;
  }

  void release(std::uint32_t id) {
    if (trace()) std::fprintf(stderr, "owner releases %u\n", id);
    auto it = streams.find(id);
    if (it == streams.end() || it->second.released) return;
    it->second.released = true;
    conn->release(id);
  }
  // One random owner action on stream `id`.
  void act(std::uint32_t id) {
    auto it = streams.find(id);
    if (it == streams.end() || it->second.released) return;
    StreamModel& s = it->second;
    const std::size_t before = output_size();
    const std::uint32_t choice = rng.below(10);
    if (trace()) std::fprintf(stderr, "owner action %u on stream %u\n", choice, id);
    switch (choice) {
      case 0: case 1:
        if (!s.responded) {
          s.responded = true;
          if (conn->begin_response(id, rng.below(3) == 0 ? 204 : 200, rng.below(4) == 0)) break;
          if (rng.below(3) == 0) conn->response_field("content-length", "5");
          conn->response_field("X-Name", "v");
          if (rng.below(8) == 0) conn->response_field("bad name", "v");
          conn->end_response(rng.below(4) == 0);
        }
        break;
      case 2: case 3: {
        const std::size_t n = rng.below(4) == 0 ? rng.below(100000) : rng.below(100);
        const bool end = rng.below(3) == 0;
        if (n % 2 == 1) {  // odd sizes go through a buffer of the owner's (no extra rng draw)
          DirectBuffer direct;
          direct.refuse = n % 7 == 0;
          conn->data(id, std::string(n, 'r'), end, direct);
          written += direct.bytes;
        } else {
          conn->data(id, std::string(n, 'r'), end);
        }
        s.queued += n;
        submitted += n;
        break;
      }
      case 4: conn->trailers(id, {{"x-t", "1"}}); break;
      case 5: conn->informational(id, 103, {{"link", "</x>"}}); break;
      case 6: conn->reset(id, ErrorCode::kCancel); break;
      case 7: conn->consume(id, rng.below(70000)); break;
      case 8: conn->error_response(id, HttpError{500, "fuzz", false}); break;
      default: release(id); break;
    }
    submitted += output_size() - before;
    // (the core's own 413 answer may add its short body to the queue)
    if (conn->pending(id) > s.queued + 256) violated("more pending than submitted");
  }
  // Between pieces: a few actions anywhere, and connection-level ones.
  void between() {
    if (streams.empty() || errored) return;
    for (unsigned k = rng.below(4); k > 0; --k) {
      auto it = streams.begin();
      std::advance(it, rng.below(static_cast<std::uint32_t>(streams.size())));
      act(it->first);
    }
    const std::size_t before = output_size();
    switch (rng.below(12)) {
      case 0: conn->pause_output(); break;
      case 1: case 2: conn->resume_output(); break;
      case 3: conn->ping(); break;
      case 4: conn->goaway(); break;
      case 5: if (conn->header_block_open()) conn->timeout_header_block(); break;
      case 6: conn->trim(); break;
      default: break;
    }
    submitted += output_size() - before;
  }
};

// --- the server's output, as a client reads it --------------------------------------------------

struct OutputChecker {
  hpack::Decoder decoder{4096, std::size_t(1) << 24};
  std::string buffer, block;
  std::uint32_t block_stream = 0;
  bool block_end_stream = false;
  std::map<std::uint32_t, bool> ended;  // stream -> END_STREAM or RST_STREAM sent
  bool error_goaway = false;
  std::vector<Header> fields;

  void read(const std::string& out) {
    buffer += out;
    std::size_t pos = 0;
    while (buffer.size() - pos >= 9) {
      const auto* u = reinterpret_cast<const unsigned char*>(buffer.data() + pos);
      const std::size_t len = (std::size_t(u[0]) << 16) | (std::size_t(u[1]) << 8) | u[2];
      if (buffer.size() - pos < 9 + len) break;
      const std::uint8_t type = u[3], flags = u[4];
      const std::uint32_t stream = ((std::uint32_t(u[5]) << 24) | (std::uint32_t(u[6]) << 16) |
                                    (std::uint32_t(u[7]) << 8) | u[8]) & 0x7fffffff;
      one(type, flags, stream, std::string_view(buffer).substr(pos + 9, len));
      pos += 9 + len;
    }
    buffer.erase(0, pos);
  }
  void one(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view p) {
    if (trace())
      std::fprintf(stderr, "  server frame type %u flags %u stream %u len %zu\n", type, flags,
                   stream, p.size());
    if (error_goaway) violated("frames after a GOAWAY with an error");
    if (block_stream != 0 && (type != 0x9 || stream != block_stream))
      violated("header block interrupted");
    switch (type) {
      case 0x0:
        if (ended[stream]) violated("DATA after END_STREAM or RST_STREAM");
        if (flags & 0x1) ended[stream] = true;
        break;
      case 0x1:
        if (ended[stream]) violated("HEADERS after END_STREAM or RST_STREAM");
        block.assign(p);
        block_end_stream = flags & 0x1;
        block_stream = stream;
        if (flags & 0x4) finish_block();
        break;
      case 0x9:
        if (block_stream == 0) violated("CONTINUATION without HEADERS");
        block.append(p);
        if (flags & 0x4) finish_block();
        break;
      case 0x3: ended[stream] = true; break;
      case 0x7:
        if (p.size() >= 8 && p[4] | p[5] | p[6] | p[7]) error_goaway = true;
        break;
      default: break;
    }
  }
  void finish_block() {
    bool oversize = false;
    if (decoder.decode(block, fields, oversize)) violated("our header block does not decode");
    if (fields.empty() && block_stream != 0 && !block_end_stream) violated("empty response head");
    if (block_end_stream) ended[block_stream] = true;
    block_stream = 0;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t config = data[0];
  Limits limits;
  limits.h2_max_concurrent_streams = 1 + (config & 7);
  limits.h2_initial_stream_window = (config & 0x08) ? 100 : 65535;
  limits.h2_initial_connection_window = (config & 0x10) ? 65535 : 1 << 20;
  limits.h2_max_header_list_size = (config & 0x20) ? 300 : 16384;
  limits.max_body_size = (config & 0x40) ? 64 : 0;
  const std::uint32_t burst = (config & 0x80) ? 5 : 200;
  limits.h2_glitch_burst = limits.h2_reset_burst = limits.h2_control_burst = burst;
  limits.h2_glitch_rate = limits.h2_reset_rate = limits.h2_control_rate = 4;
  limits.h2_max_continuation_frames = 2;
  limits.h2_max_header_block_size = 20000;
  limits.h2_max_control_backlog = 2000;
  ResponseConfig response;

  Connection conn(limits, response, (config & 1) != 0);
  Owner owner;
  owner.conn = &conn;
  owner.limits = &limits;
  owner.rng.s = data[1] * 2654435761u + 7;
  OutputChecker checker;
  Program program(std::string_view(reinterpret_cast<const char*>(data + 2), size - 2));
  const auto pieces = program.build();

  conn.start();
  std::size_t input = 0, output = 0;
  for (const auto& [bytes, now] : pieces) {
    // Each piece is fed in a few random splits.
    std::size_t at = 0;
    while (at < bytes.size()) {
      const std::size_t n = 1 + owner.rng.below(static_cast<std::uint32_t>(bytes.size() - at) + 8);
      const std::size_t take = std::min(n, bytes.size() - at);
      const bool was_done = conn.done() && owner.errored;
      const std::size_t before = owner.output_size();
      conn.feed(std::string_view(bytes).substr(at, take), owner, now);
      if (was_done && owner.output_size() != before) violated("output after the connection ended");
      at += take;
      input += take;
    }
    owner.between();
    if (conn.active_streams() > limits.h2_max_concurrent_streams) violated("too many slots");
    // Output bound: what the owner asked for, plus a constant factor of the input.
    output += owner.output_size();
    if (output > owner.submitted + 32 * input + 4096) violated("output out of proportion");
    checker.read(owner.written);
    checker.read(conn.output());
    owner.written.clear();
    conn.output().clear();
  }
  return 0;
}
