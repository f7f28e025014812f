// Transport: the one object per connection that talks to the asyncio transport. It owns the
// output buffer and writes, output held until the end of the loop iteration, pause/resume of
// reading and writing, and the drain waiter that send() awaits while the client does not read.
// Protocols (HTTP/1, HTTP/2), request cycles and WebSocket sessions go through it; none of them
// calls the asyncio transport directly.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "context.hpp"
#include "ruvicorn/buffer_pool.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;

// Response bodies at least this large are written without a copy into out(): HTTP/1.1 writes
// the app's bytes object itself, HTTP/2 frames them straight into the bytes object it writes.
constexpr std::size_t kLargeBody = 32 * 1024;
// Output a connection holds for one write at the end of the loop iteration (see hold()): at most
// this much (more is written at once), and a complete response or lone WebSocket frame only when
// smaller than kHoldWhole: holding one that large costs more in copies and cache misses than
// the client wake-up a shared write saves (stream -12 %, ws-16k -9 % when held).
constexpr std::size_t kHoldOutput = 64 * 1024;
constexpr std::size_t kHoldWhole = 4 * 1024;

// What a connection tells every scope: the peer, our address, the scheme, whether the peer is a
// trusted proxy (decided once per connection) and the protocol ALPN chose ("" without TLS).
struct PeerInfo {
  pb::object client, server, scheme;
  bool trusted_proxy = false;
  bool tls = false;
  std::string alpn;
  pb::object tls_info;  // the ASGI tls extension's dict (tls_info.hpp), or empty
};

class Transport {
 public:
  explicit Transport(HttpContext& ctx) : ctx_(ctx) {}
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // connection_made: binds the transport's methods; `owner` (the protocol's Python object) keeps
  // this alive while output is held. Reads the peer information once.
  void attach(pb::object transport, pb::object owner);
  // The same asyncio transport, handed over from another protocol (h2c, prior knowledge, ALPN):
  // peer information and pause states carry over; the other side detaches without closing.
  void adopt(const Transport& from, pb::object owner);
  // connection_lost or handed over: nothing more is written; a waiting send() is released, or
  // fails with `lost` (an exception instance: a WebSocket's send() raises, ASGI 2.4).
  void detach(PyObject* lost = nullptr);

  bool closed() const { return closed_; }
  const PeerInfo& peer() const { return peer_; }
  const pb::object& handle() const { return transport_; }
  HttpContext& ctx() const { return ctx_; }

  // Output. out() collects bytes; flush() writes them now; hold() has them written by the end of
  // this loop iteration (or on resume_writing() while paused). write() writes a bytes object
  // as is (after anything in out()). All may raise pb::error_already_set.
  // Between writes the transport's own buffer is back in the thread's pool
  // (ruvicorn/buffer_pool.hpp): out() takes one, so an idle connection holds none.
  std::string& out() {
    if (out_ == &own_out_) reuse(own_out_);
    return *out_;
  }
  const std::string& out() const { return *out_; }
  // Writes come from `buffer` instead of the transport's own (an HTTP/2 connection's frames).
  void use_output(std::string& buffer) { out_ = &buffer; }
  // While set, written output leaves the buffer its memory (up to high_water) for the next
  // writes instead of giving it back to the pool: for a busy connection, whose owner gives it
  // back once idle.
  void keep_output(bool keep) { keep_output_ = keep; }
  void flush();
  void hold();
  void write(PyObject* bytes);
  // Writes out() now unless the transport is closing; failures are logged, never raised.
  void write_held() noexcept;
  void flush_held() noexcept;  // from HttpContext::flush_held_outputs()

  void close() noexcept;
  void abort() noexcept;

  // Writing (the transport's flow control calls these through the protocol).
  void pause_writing() { writing_paused_ = true; }
  void resume_writing();  // writes what was held back, releases the drain waiter
  bool writing_paused() const { return writing_paused_; }
  // What send() returns: an awaitable that is ready now, or the drain waiter while paused.
  pb::object writable();

  // Reading (our flow control: unread request bodies, queued WebSocket messages, HTTP/2).
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return reading_paused_; }

 private:
  // set_result(None), or set_exception(error); never throws.
  void release_drain_waiter(PyObject* error = nullptr) noexcept;
  void drop_output();  // out() written or dropped: empty, its memory back to the pool or kept
  // transport.<method>() with no argument; may raise pb::error_already_set.
  void call(PyObject* method);

  HttpContext& ctx_;
  PeerInfo peer_;
  pb::object transport_;
  pb::object owner_;
  // write() bound once (it runs per response); the rare calls go by name, so that a connection
  // does not keep three more bound-method objects.
  pb::object write_;
  pb::object drain_waiter_;  // Future resolved on resume_writing() or detach()
  std::string own_out_;
  std::string* out_ = &own_out_;
  bool closed_ = true;       // until attach()
  bool close_called_ = false;  // transport.close() is called once
  bool held_ = false;        // listed in ctx_.held_outputs
  bool keep_output_ = false;  // keep_output()
  bool writing_paused_ = false;
  bool reading_paused_ = false;
};

}  // namespace ruvicorn::py
