// The WebSocket framing layer (RFC 6455 5, with permessage-deflate from RFC 7692 6-7): a reader
// that turns received bytes into whole messages and control frames, and a writer that serialises
// messages. Bytes in, events out, like Connection: no sockets, no time, no Python. Errors are
// values carrying the close code to send (1002 protocol, 1007 bad data, 1009 too big).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ruvicorn/limits.hpp"
#include "ruvicorn/utf8.hpp"
#include "ruvicorn/ws_handshake.hpp"

namespace ruvicorn {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes (RFC 6455 7.4.1 and the IANA registry).
struct WsClose {
  static constexpr int kNormal = 1000;
  static constexpr int kGoingAway = 1001;
  static constexpr int kProtocolError = 1002;
  static constexpr int kUnsupportedData = 1003;
  static constexpr int kNoStatus = 1005;       // never on the wire: close frame without a code
  static constexpr int kAbnormal = 1006;       // never on the wire: connection lost
  static constexpr int kInvalidData = 1007;
  static constexpr int kPolicyViolation = 1008;
  static constexpr int kMessageTooBig = 1009;
  static constexpr int kMandatoryExtension = 1010;
  static constexpr int kInternalError = 1011;
  static constexpr int kServiceRestart = 1012;
  static constexpr int kTryAgainLater = 1013;
};

// May a close frame carry this code? 1000-1003, 1007-1014 and 3000-4999.
bool ws_close_code_valid(int code);

struct WsError {
  int code = 0;             // close code to send; 0: no error
  std::string_view reason;  // static text, fits in a close frame
  constexpr explicit operator bool() const { return code != 0; }
};

// Which end we are: a server reads masked frames and writes unmasked ones; a client the reverse
// (the client role exists for tests, benchmarks and embedders).
enum class WsRole { kServer, kClient };

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // A whole message (reassembled, inflated, text checked as UTF-8). Valid only during the call.
  virtual void on_message(WsOpcode opcode, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;  // the owner answers with a pong
  virtual void on_pong(std::string_view payload) = 0;
  // The peer's close frame: code 1005 when it had no payload. The reader delivers nothing more;
  // the owner echoes a close (WsWriter::close) and ends the connection.
  virtual void on_close(int code, std::string_view reason) = 0;
  // The peer broke the protocol or a limit: send a close with `error.code` and end the
  // connection. The reader delivers nothing more.
  virtual void on_error(const WsError& error) = 0;
  // Asked after every frame: true makes feed() stop there (a full message queue, say), so an
  // owner that stops reading holds at most the bytes of one read, never the messages in them.
  virtual bool paused() const { return false; }
};

// A growable byte buffer that keeps its storage between messages and does not zero-fill on
// growth (std::string would, on every resize).
class WsBuffer {
 public:
  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_.get()), size_};
  }
  void clear() { size_ = 0; }
  // Makes room for `n` more bytes and returns where they go; commit(n) afterwards.
  std::uint8_t* prepare(std::size_t n);
  void commit(std::size_t n) { size_ += n; }
  void truncate(std::size_t n) { if (n < size_) size_ = n; }
  void release();  // frees the storage (after an unusually large message)

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

class WsInflater;
class WsDeflater;

class WsReader {
 public:
  enum class State { kOpen, kClosed, kFailed };

  // `deflate` is the negotiated extension (RSV1 frames are a protocol error without it).
  // Limits::ws_max_message bounds a message after reassembly and inflation (0: unbounded).
  WsReader(const Limits& limits, const WsDeflateParams& deflate, WsRole role = WsRole::kServer);
  ~WsReader();
  WsReader(const WsReader&) = delete;
  WsReader& operator=(const WsReader&) = delete;

  // Consumes received bytes; calls `handler` for every message or control frame they complete.
  // Payload bytes are unmasked straight into the reassembly buffer (the one copy); a partial
  // frame header is kept in a 14-byte array. Nothing is allocated per frame once the buffer has
  // grown to the connection's usual message size. Handlers must not call feed() or destroy the
  // reader from a callback; after on_close/on_error feed() ignores all input.
  // Returns how many bytes it took: all of them, unless handler.paused() said stop (before the
  // first frame or after any frame); the owner feeds the rest again once it has room (and
  // meanwhile stops reading its transport).
  std::size_t feed(std::string_view data, WsHandler& handler);

  State state() const { return state_; }
  // During on_message for a text message: what the UTF-8 check learned about all of it (ASCII
  // or not, code points, width), so the owner can build its string without decoding it again.
  const Utf8Validator& text_check() const { return utf8_; }
  // Bytes of an unfinished message held (to compare with a memory budget).
  std::size_t buffered() const { return message_.size(); }

 private:
  enum class Phase { kHeader, kPayload };

  bool start_frame(const std::uint8_t* h, WsHandler& handler);
  bool payload(const std::uint8_t* p, std::size_t n, WsHandler& handler);
  bool end_frame(WsHandler& handler);
  bool append_message(const std::uint8_t* p, std::size_t n, WsHandler& handler);
  bool inflate(const std::uint8_t* p, std::size_t n, WsHandler& handler);
  bool fail(int code, std::string_view reason, WsHandler& handler);
  void control(WsHandler& handler);

  const std::size_t max_message_;
  const WsDeflateParams deflate_;
  const bool server_;
  State state_ = State::kOpen;
  Phase phase_ = Phase::kHeader;

  std::uint8_t header_[14] = {};  // a frame header split between feed() calls
  std::size_t header_len_ = 0;

  std::uint8_t opcode_ = 0;       // current frame
  bool fin_ = false;
  bool masked_ = false;
  std::uint8_t mask_[4] = {};
  std::size_t mask_pos_ = 0;      // payload bytes of the frame seen so far (mod 4 matters)
  std::uint64_t remaining_ = 0;

  bool in_message_ = false;       // a data message has started and not finished
  WsOpcode message_opcode_ = WsOpcode::kText;
  bool compressed_ = false;       // RSV1 on the message's first frame
  std::uint64_t wire_size_ = 0;   // payload bytes received for the message (compressed size)
  WsBuffer message_;              // reassembled (and inflated) message
  Utf8Validator utf8_;
  std::uint8_t control_[125] = {};
  std::size_t control_len_ = 0;
  std::unique_ptr<WsInflater> inflater_;  // created at the first compressed message
};

// Writes a frame header for a payload of `length` bytes into `out`; returns its size (2 to 14).
// `mask` (4 bytes) is for the client role only; servers send unmasked frames.
std::size_t ws_frame_header(std::uint8_t (&out)[14], WsOpcode opcode, std::uint64_t length,
                            bool fin = true, bool rsv1 = false, const std::uint8_t* mask = nullptr);
// out[i] = data[i] ^ key[i % 4] (RFC 6455 5.3): masks or unmasks; `out` may equal `data`. The
// reader unmasks inline; this is for embedders, tests and benchmarks.
void ws_apply_mask(const std::uint8_t* data, std::size_t n, const std::uint8_t (&key)[4],
                   std::uint8_t* out);
// Appends one frame (header and payload, masked when `mask` is given).
void ws_write_frame(std::string& out, WsOpcode opcode, std::string_view payload, bool fin = true,
                    bool rsv1 = false, const std::uint8_t* mask = nullptr);

// A frame ready to send: header bytes plus the payload to follow them. `payload` is either the
// caller's bytes or the writer's own buffer (compressed or masked), valid until the writer's next
// call. Lets the owner build its output object (e.g. one Python bytes) with a single copy.
struct WsFrameOut {
  std::uint8_t header[14] = {};
  std::size_t header_size = 0;
  std::string_view payload;

  std::size_t size() const { return header_size + payload.size(); }
  void append_to(std::string& out) const {
    out.append(reinterpret_cast<const char*>(header), header_size);
    out.append(payload);
  }
};

class WsWriter {
 public:
  explicit WsWriter(const WsDeflateParams& deflate, WsRole role = WsRole::kServer);
  ~WsWriter();
  WsWriter(const WsWriter&) = delete;
  WsWriter& operator=(const WsWriter&) = delete;

  // A whole message as one frame, compressed when deflate was negotiated, `compress` is set and
  // the payload is at least deflate.min_size bytes.
  WsFrameOut prepare(WsOpcode opcode, std::string_view payload, bool compress = true);
  // Control frames; payloads beyond 125 bytes are cut. A close frame has no payload for code 0
  // or 1005; otherwise the code and the reason, cut to 123 bytes at a UTF-8 character boundary.
  WsFrameOut prepare_ping(std::string_view payload = {});
  WsFrameOut prepare_pong(std::string_view payload);
  WsFrameOut prepare_close(int code, std::string_view reason = {});

  // The same, appended to `out`.
  void message(std::string& out, WsOpcode opcode, std::string_view payload, bool compress = true) {
    prepare(opcode, payload, compress).append_to(out);
  }
  void text(std::string& out, std::string_view payload) { message(out, WsOpcode::kText, payload); }
  void binary(std::string& out, std::string_view payload) {
    message(out, WsOpcode::kBinary, payload);
  }
  void ping(std::string& out, std::string_view payload = {}) {
    prepare_ping(payload).append_to(out);
  }
  void pong(std::string& out, std::string_view payload) { prepare_pong(payload).append_to(out); }
  void close(std::string& out, int code, std::string_view reason = {}) {
    prepare_close(code, reason).append_to(out);
  }

 private:
  WsFrameOut frame(WsOpcode opcode, std::string_view payload, bool rsv1);

  const WsDeflateParams deflate_;
  const bool client_;
  std::uint64_t mask_state_ = 0;          // client role: mask key generator
  std::unique_ptr<WsDeflater> deflater_;  // created at the first compressed message
  WsBuffer scratch_;                      // compressed or masked payload
  std::uint8_t close_body_[125] = {};
};

}  // namespace ruvicorn
