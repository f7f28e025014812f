// H3Protocol: the HTTP/3 side of one QUIC connection (RFC 9114). The QUIC library and its UDP
// endpoint live in Python (ruvicorn/http3.py, the "glue"): it feeds this object the events of its
// QuicConnection (stream data, resets, STOP_SENDING, the end) and, before it asks the library for
// datagrams, has flush() hand what the core queued to the library. Each request stream becomes an
// HttpCycle whose sink is an H3Stream. Nothing here touches a socket or a timer of QUIC's.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "context.hpp"
#include "ruvicorn/http3.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;
class H3Stream;

class H3Protocol final : public http3::Handler, public Sweepable {
 public:
  // `quic`: the library's QuicConnection (send_stream_data, reset_stream, stop_stream, close);
  // `glue`: the Python object that owns it (schedule_transmit(), send_buffered(stream_id),
  // resume_reading()). `client`/`server`: (host, port) for the scopes; `trusted_proxy`: whether
  // --proxy-headers applies to this client.
  H3Protocol(pb::object context, pb::object quic, pb::object glue, pb::object client,
             pb::object server, bool trusted_proxy);
  ~H3Protocol() override;

  // --- from the glue ----------------------------------------------------------------------------
  // The handshake is done: our control stream, and the connection's ASGI tls extension (a dict,
  // given to every scope) or None.
  void start(std::uint64_t control_stream, pb::object tls_info);
  void stream_data(std::uint64_t id, pb::handle data, bool fin);
  void stream_reset(std::uint64_t id);
  void stop_sending(std::uint64_t id);
  // Hands the core's output to the QUIC library (before datagrams_to_send); true if any.
  bool flush();
  // After datagrams went out: senders waiting for a stream's send buffer may continue.
  void drained();
  // The QUIC connection ended (ConnectionTerminated, idle timeout, our close).
  void connection_lost();
  // Server control: GOAWAY, then close once the streams in flight are done; close now.
  void shutdown();
  void abort();
  // Is the connection holding more unread request body than --h3 receive buffer allows? Then
  // the glue holds back its datagrams until resume_reading().
  bool over_receive_buffer();
  bool closing() const { return closing_; }
  // Shutting down and every stream is done: the glue closes (close_now) once what was sent has
  // been acknowledged, so the last responses are not cut off by the CONNECTION_CLOSE.
  bool close_pending() const { return close_pending_ && !closing_; }
  void close_now() noexcept;

  // http3::Handler (core events, during feed()). They never throw and never call the core back:
  // what must be answered is queued and done once feed() returns.
  void on_request(const http3::Request& request) override;
  void on_data(std::uint64_t stream, std::string_view data) override;
  void on_end(std::uint64_t stream) override;
  void on_reset(std::uint64_t stream) override;
  void on_goaway() override;
  void on_error(const http3::Error& error) override;

  // Sweepable: the request-head deadline.
  void sweep(double now) override;

  // --- for H3Stream -----------------------------------------------------------------------------
  HttpContext& ctx() const { return *ctx_; }
  http3::Connection& conn() { return conn_; }
  bool closed() const { return closed_; }
  void output_ready();                        // output queued outside feed(): transmit soon
  void stream_finished(std::uint64_t id) noexcept;
  std::size_t send_buffered(std::uint64_t id);  // the library's unsent bytes of the stream
  void watch(std::uint64_t id);               // a send() waits for the stream to drain
  void maybe_resume();                        // the app read: resume taking datagrams

 private:
  friend struct MetricsProbe;  // gauges (metrics.cpp)
  struct Entry {
    pb::object obj;              // the HttpCycle (strong, while the stream lives)
    HttpCycle* cycle = nullptr;
    H3Stream* stream = nullptr;  // owned by the cycle
  };
  struct Pending {
    // kStart: the stream's app (an eager one runs at once, and may answer through the core).
    enum class Kind { kStart, kError } kind;
    std::uint64_t stream;
    HttpError error{};
  };

  // A client's RESET_STREAM or STOP_SENDING, through the core.
  void signal(void (http3::Connection::*event)(std::uint64_t, http3::Handler&, double),
              std::uint64_t id);
  void feed_done();
  void start_cycle(const http3::Request& request);
  // A copy of the entry: an eager app may end the stream, and erase its entry, as it runs.
  void start_app(std::uint64_t id, Entry entry);
  Entry* find(std::uint64_t id);
  void fail_stream(std::uint64_t id);  // a 500 for the stream, answered after feed()
  // The client reset the stream or the connection is lost: its app gets http.disconnect.
  void stream_lost(Entry& entry, const char* where) noexcept;
  void close_quic(std::uint64_t code, std::string_view reason) noexcept;
  void close_when_done() noexcept;

  pb::object context_obj_;
  HttpContext* ctx_;
  PeerInfo peer_;
  http3::Connection conn_;
  pb::object send_stream_data_, reset_stream_, stop_stream_, close_;  // the library's methods
  pb::object schedule_transmit_, send_buffered_, resume_reading_;    // the glue's
  std::unordered_map<std::uint64_t, Entry> streams_;
  std::vector<Pending> pending_;        // apps to start, errors to answer: after feed()
  std::vector<std::uint64_t> deliver_;  // streams whose app may have body bytes to receive
  std::vector<std::uint64_t> watched_;  // streams with a send() waiting for the buffer to drain
  bool in_feed_ = false;
  bool transmit_scheduled_ = false;
  bool shutting_down_ = false;
  bool closing_ = false;       // close() was asked of the library
  bool close_pending_ = false; // close once the library's send buffers are empty
  bool closed_ = false;        // connection_lost
  bool reading_paused_ = false;
};

// Registers H3Protocol.
void register_http3(pb::module_& m);

}  // namespace ruvicorn::py
