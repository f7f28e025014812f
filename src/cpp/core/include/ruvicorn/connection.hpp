// The HTTP/1.1 connection state machine (RFC 9112): bytes in, events out. It finds request heads
// with a HeadParser, applies the framing rules, de-chunks bodies, and holds pipelined bytes until the
// response to the current request is done, so responses go out strictly in order.
//
// It knows nothing of sockets, time or Python: the owner feeds received bytes, implements
// ConnectionHandler, writes responses (see response.hpp) and calls response_done().
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ruvicorn/error.hpp"
#include "ruvicorn/limits.hpp"
#include "ruvicorn/parser.hpp"

namespace ruvicorn::http1 {

enum class BodyFraming { kNone, kLength, kChunked };

// A validated request head. All views are slices of the receive buffer: valid only during the
// handler call that receives the Request.
struct Request {
  RequestHead head;
  std::string_view path;          // raw path: target up to '?' (not percent-decoded)
  std::string_view query;         // after '?', without it; empty if none
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;  // when framing == kLength
  bool keep_alive = true;         // by version and Connection tokens (RFC 9112 9.3)
  bool expect_continue = false;   // "Expect: 100-continue" (answer only when the app reads)
  bool upgrade_websocket = false; // "Upgrade: websocket" with "Connection: upgrade"
  // "Upgrade: h2c" with "Connection: Upgrade, HTTP2-Settings" and one HTTP2-Settings field
  // (RFC 7540 3.2); its value (base64url of a SETTINGS payload) in http2_settings.
  bool upgrade_h2c = false;
  std::string_view http2_settings;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // A request head is complete and valid. The body (if any) follows in on_body calls.
  virtual void on_request(const Request& request) = 0;
  // A piece of the body, de-chunked. Valid only during the call.
  virtual void on_body(std::string_view chunk) = 0;
  // The body is complete (called for body-less requests too, right after on_request). The
  // handler may answer at once (response_done) from here.
  virtual void on_body_end() = 0;
  // The input is malformed or over a limit. The owner answers with `error.status` (if no response
  // has started) and closes. The Connection delivers nothing more afterwards. (Not called for a
  // body being drained after its response: see response_done.)
  virtual void on_error(const HttpError& error) = 0;
};

class Connection {
 public:
  enum class State {
    kHead,          // waiting for (more of) a request head
    kBody,          // reading the body of the current request
    kAwaitResponse, // request fully read; holding further bytes until response_done()
    kDrain,         // answered before its body was read: the rest is read and discarded
    kUpgraded,      // an upgrade was accepted: bytes are no longer HTTP (see take_unparsed)
    kClosed,        // after an error or a non-keep-alive response: input is ignored
  };

  Connection(const Limits& limits, ParserKind kind);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Consumes received bytes and calls `handler` for what they complete. When the buffer is empty
  // the bytes are parsed in place (zero-copy); only an unfinished remainder is copied in.
  // Handlers may call response_done() re-entrantly; the loop then goes on with pipelined bytes.
  // (Handlers must not call feed() itself: such bytes are ignored.)
  void feed(std::string_view data, ConnectionHandler& handler);

  // The response to the current request is complete. With keep_alive the next pipelined request
  // (if buffered) is delivered, possibly before this returns; otherwise the connection closes.
  // If the request body has not all arrived, it is drained first (kDrain): read with the same
  // framing rules, not delivered, at most limits.max_drain bytes; a body with more to come, a
  // malformed one, or one the client may never send (Expect: 100-continue, nothing sent yet)
  // closes the connection instead, without on_error (a response went out already). The owner
  // bounds the drain in time and closes when state() is kClosed after this call or a feed().
  void response_done(bool keep_alive, ConnectionHandler& handler);

  // The owner accepted an upgrade for the current request: stop parsing HTTP.
  void upgrade();
  // Bytes received after the current request's head/body that were not parsed (after upgrade()).
  std::string take_unparsed();

  void close();  // ignore all further input

  State state() const { return state_; }
  bool draining() const { return state_ == State::kDrain; }
  // Bytes held but not yet delivered (partial heads, pipelined requests): compare to high_water.
  std::size_t buffered() const { return buffer_.size() - consumed_; }
  // Some bytes of a request head have arrived but not the whole head (for a 408 on timeout).
  bool head_started() const { return state_ == State::kHead && buffered() > 0; }
  // Number of requests whose heads were delivered on this connection.
  std::uint64_t requests() const { return requests_; }
  const Limits& limits() const { return limits_; }

 private:
  void run(ConnectionHandler& handler);
  // Each step consumes from input_ at input_pos_ (updated before any handler call, so a handler
  // may call take_unparsed()); false: nothing more can be done with the bytes at hand.
  bool step_head(ConnectionHandler& handler);
  bool step_body(ConnectionHandler& handler);
  bool step_chunked(ConnectionHandler& handler);  // chunked.cpp
  void finish_body(ConnectionHandler& handler);
  void body_piece(std::string_view chunk, ConnectionHandler& handler);  // delivered unless draining
  bool can_drain() const;
  void fail(const HttpError& error, ConnectionHandler& handler);
  void resume(ConnectionHandler& handler);  // run() over buffer_ (outside feed)
  void settle();                            // after run(): keep only what is unconsumed
  void compact();

  const Limits limits_;
  std::unique_ptr<HeadParser> parser_;
  State state_ = State::kHead;
  std::string buffer_;          // unconsumed input that outlived a feed() call
  std::size_t consumed_ = 0;    // prefix of buffer_ already delivered
  std::string_view input_;      // what run() parses: buffer_ or the caller's bytes (zero-copy)
  std::size_t input_pos_ = 0;
  bool running_ = false;        // inside run(): response_done() only sets state
  BodyFraming framing_ = BodyFraming::kNone;
  std::uint64_t remaining_ = 0; // body bytes left (kLength) or in the current chunk (kChunked)
  std::uint64_t body_seen_ = 0; // for max_body_size
  int chunk_state_ = 0;         // position inside chunked framing (see chunked.cpp)
  std::uint64_t chunk_line_ = 0;    // bytes of the current chunk-size or trailer line
  std::uint64_t trailer_bytes_ = 0; // bytes of the trailer section
  bool input_is_buffer_ = false;    // input_ views buffer_ (else the caller's bytes)
  std::uint64_t drained_ = 0;   // body bytes (on the wire) read in kDrain
  bool keep_alive_ = true;
  bool expect_continue_ = false;  // of the current request
  std::uint64_t requests_ = 0;
};

}  // namespace ruvicorn::http1
