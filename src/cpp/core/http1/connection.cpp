// The HTTP/1.1 connection state machine (see connection.hpp). run() is a loop that re-reads state_
// after every handler call, because handlers may call response_done(), close() or upgrade()
// re-entrantly; nothing here recurses.
#include "ruvicorn/connection.hpp"

#include <algorithm>

#include "http1/framing.hpp"
#include "ruvicorn/buffer_pool.hpp"

namespace ruvicorn::http1 {

Connection::Connection(const Limits& limits, ParserKind kind)
    : limits_(limits), parser_(make_parser(kind, limits_)) {}

Connection::~Connection() = default;

void Connection::feed(std::string_view data, ConnectionHandler& handler) {
  if (state_ == State::kClosed || data.empty()) return;
  // feed() from inside a handler is not supported: views handed to that handler would move.
  if (running_) return;
  if (state_ == State::kUpgraded) {
    reuse(buffer_);
    buffer_.append(data.data(), data.size());  // the owner collects these with take_unparsed()
    return;
  }
  if (buffered() > 0) {
    compact();
    buffer_.append(data.data(), data.size());
    input_ = buffer_;
    input_pos_ = consumed_;
    input_is_buffer_ = true;
  } else {
    // Zero-copy: parse the caller's bytes in place.
    buffer_.clear();
    consumed_ = 0;
    input_ = data;
    input_pos_ = 0;
    input_is_buffer_ = false;
  }
  run(handler);
  settle();
}

void Connection::settle() {
  if (state_ == State::kClosed) {
    buffer_.clear();  // a dead connection keeps nothing (below)
    consumed_ = 0;
  } else if (input_is_buffer_) {
    consumed_ = input_pos_;
  } else if (input_pos_ < input_.size()) {
    // Only an unfinished remainder is copied (a partial head, pipelined or upgraded bytes).
    reuse(buffer_);
    buffer_.assign(input_.data() + input_pos_, input_.size() - input_pos_);
    consumed_ = 0;
  }
  if (consumed_ == buffer_.size()) {
    // Nothing held: the buffer goes back to the thread's pool (a large one is freed), as do the
    // header slots, whose views no handler holds any more. An idle connection keeps neither.
    consumed_ = 0;
    recycle(buffer_, limits_.high_water);
  }
  if (state_ == State::kUpgraded || state_ == State::kClosed) {
    parser_.reset();  // parses no head any more (handlers are done with the last one's views)
  } else {
    parser_->release_slots();
  }
  input_ = {};
  input_pos_ = 0;
  input_is_buffer_ = false;
}

void Connection::compact() {
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

void Connection::run(ConnectionHandler& handler) {
  running_ = true;
  for (;;) {
    bool progressed = false;
    if (state_ == State::kHead) {
      progressed = step_head(handler);
    } else if (state_ == State::kBody) {
      progressed = step_body(handler);
    } else if (state_ == State::kDrain) {
      const std::size_t before = input_pos_;
      progressed = step_body(handler);
      drained_ += input_pos_ - before;
      // Counted on the wire (chunk sizes, extensions and trailers too); at most one read over.
      // Also when this step ended the body: the outcome must not depend on how reads split it.
      if (state_ != State::kClosed && drained_ > limits_.max_drain) {
        close();
        progressed = false;
      }
    }
    if (!progressed) break;
  }
  running_ = false;
}

void Connection::resume(ConnectionHandler& handler) {
  if (running_) return;  // the loop in progress will look at the new state
  input_ = buffer_;
  input_pos_ = consumed_;
  input_is_buffer_ = true;
  run(handler);
  settle();
}

bool Connection::step_head(ConnectionHandler& handler) {
  std::string_view data = input_.substr(input_pos_);
  // RFC 9112 2.2: empty lines before a request line are ignored.
  while (data.size() >= 2 && data[0] == '\r' && data[1] == '\n') {
    data.remove_prefix(2);
    input_pos_ += 2;
  }
  if (data.empty() || data == "\r") return false;

  RequestHead head;
  HttpError error;
  switch (parser_->parse(data, head, error)) {
    case ParseStatus::kIncomplete:
      if (data.size() > limits_.max_head_size) {
        fail(HttpError{431, "request head too large", true}, handler);
      }
      return false;
    case ParseStatus::kError:
      fail(error, handler);
      return false;
    case ParseStatus::kComplete:
      break;
  }
  Request request;
  error = http1::make_request(head, limits_, request);
  if (error) {
    fail(error, handler);
    return false;
  }
  input_pos_ += head.head_length;
  ++requests_;
  keep_alive_ = request.keep_alive;
  expect_continue_ = request.expect_continue;
  framing_ = request.framing;
  remaining_ = request.content_length;
  body_seen_ = 0;
  chunk_state_ = 0;
  chunk_line_ = 0;
  trailer_bytes_ = 0;
  state_ = State::kBody;
  handler.on_request(request);
  return true;
}

bool Connection::step_body(ConnectionHandler& handler) {
  switch (framing_) {
    case BodyFraming::kNone:
      finish_body(handler);
      return true;
    case BodyFraming::kChunked:
      return step_chunked(handler);
    case BodyFraming::kLength:
      break;
  }
  std::size_t avail = input_.size() - input_pos_;
  if (avail == 0) return false;
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, avail));
  std::string_view chunk = input_.substr(input_pos_, n);
  input_pos_ += n;
  remaining_ -= n;
  body_seen_ += n;
  body_piece(chunk, handler);
  if ((state_ == State::kBody || state_ == State::kDrain) && remaining_ == 0) {
    finish_body(handler);
  }
  return true;
}

void Connection::body_piece(std::string_view chunk, ConnectionHandler& handler) {
  if (state_ == State::kBody) handler.on_body(chunk);
}

void Connection::finish_body(ConnectionHandler& handler) {
  if (state_ == State::kDrain) {  // the answered request's body is over: the next one may start
    state_ = State::kHead;
    return;
  }
  // Before the call: the handler may answer (response_done), close or upgrade from inside it.
  state_ = State::kAwaitResponse;
  handler.on_body_end();
}

void Connection::fail(const HttpError& error, ConnectionHandler& handler) {
  const bool answered = state_ == State::kDrain;
  state_ = State::kClosed;
  // While draining, the response went out: an error response would answer the next request.
  if (!answered) handler.on_error(error);
}

bool Connection::can_drain() const {
  if (framing_ == BodyFraming::kLength && remaining_ > limits_.max_drain) return false;
  // RFC 9110 10.1.1: a client waiting for 100 Continue that got a final response instead may
  // never send the body; its next request would be read as body bytes. Close unless it started.
  const bool started = body_seen_ > 0 || chunk_state_ != 0 || chunk_line_ != 0;
  if (expect_continue_ && !started) return false;
  return limits_.max_drain > 0;
}

void Connection::response_done(bool keep_alive, ConnectionHandler& handler) {
  keep_alive = keep_alive && keep_alive_;
  if (state_ == State::kBody) {
    // Answered before the body was read: a small rest is drained so the next request starts at
    // the right byte (RFC 9112 9.3); otherwise the connection closes.
    if (!keep_alive || !can_drain()) {
      close();
      return;
    }
    state_ = State::kDrain;
    drained_ = 0;
    if (!running_ && buffered() > 0) resume(handler);
    return;
  }
  if (state_ != State::kAwaitResponse) return;
  if (!keep_alive) {
    close();
    return;
  }
  state_ = State::kHead;
  if (!running_ && buffered() > 0) resume(handler);
}

void Connection::upgrade() { state_ = State::kUpgraded; }

std::string Connection::take_unparsed() {
  std::string out;
  if (running_) {
    out.assign(input_.data() + input_pos_, input_.size() - input_pos_);
    input_pos_ = input_.size();
  } else {
    out.assign(buffer_, consumed_, std::string::npos);
    recycle(buffer_, limits_.high_water);
    consumed_ = 0;
  }
  return out;
}

void Connection::close() {
  state_ = State::kClosed;
  // The buffer is released by settle(): a handler may still hold views into it.
  if (!running_) settle();
}

}  // namespace ruvicorn::http1
