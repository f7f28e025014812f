// H2Protocol: the asyncio Protocol of an HTTP/2 connection (RFC 9113). HttpProtocol hands the
// transport over when ALPN chose h2, when a cleartext connection opens with the HTTP/2 preface,
// or after an "Upgrade: h2c" request. Bytes go to http2::Connection (the core); each request
// stream becomes an HttpCycle (or a WsSession for an extended CONNECT, RFC 8441) whose sink is an
// H2Stream. Frames produced in one loop iteration go out in one write.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "context.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/http2.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;
class WsSession;
class H2Stream;

class H2Protocol final : public http2::Handler, public Sweepable {
 public:
  explicit H2Protocol(pb::object context);
  ~H2Protocol() override;

  // The handover (the caller then detaches its own Transport). `self` is this object's Python
  // handle, set as the asyncio transport's protocol. `early` are bytes already read (the preface
  // and what followed it). For an h2c upgrade, `upgraded` is the HTTP/1.1 request that becomes
  // stream 1 (its 101 already written) and `settings` its decoded HTTP2-Settings.
  void take_over(const Transport& from, pb::object self, std::string_view early);
  bool take_over_upgraded(const Transport& from, pb::object self, const http1::Request& upgraded,
                          std::string_view settings, std::string_view early);

  // asyncio.Protocol (after the handover; connection_made has already happened).
  void data_received(pb::handle data);
  bool eof_received();
  void connection_lost(pb::object exc);
  void pause_writing();
  void resume_writing();
  // Server control: GOAWAY, then close once the streams in flight are done; close now.
  void shutdown();
  void abort();

  // http2::Handler (core events, during feed()). They never throw and never call the core back:
  // what must be answered is queued and done once feed() returns.
  void on_request(const http2::Request& request) override;
  void on_data(std::uint32_t stream, std::string_view data) override;
  void on_end(std::uint32_t stream) override;
  void on_reset(std::uint32_t stream, http2::ErrorCode code) override;
  void on_writable(std::uint32_t stream) override;
  void on_goaway(http2::ErrorCode code, std::uint32_t last_stream) override;
  void on_error(const http2::Error& error) override;

  // Sweepable: idle timeout, keep-alive pings, the header-block deadline.
  void sweep(double now) override;

  // For H2Stream.
  HttpContext& ctx() const { return *ctx_; }
  http2::Connection& conn() { return conn_; }
  Transport& transport() { return transport_; }
  // May output be written to the transport right now (not inside feed(), not paused, open)?
  bool writes_now() const {
    return !in_feed_ && !upgrading_ && !transport_.closed() && !transport_.writing_paused();
  }
  // Frames were queued (outside feed()): written this loop iteration, or now when many. A
  // transport that refuses them closes the connection; never throws.
  void output_ready() noexcept;
  // The app task of a stream ended: its slot is released and the stream forgotten.
  void stream_finished(std::uint32_t id) noexcept;

 private:
  friend struct MetricsProbe;  // gauges (metrics.cpp)
  struct Entry {
    pb::object obj;              // the HttpCycle or WsSession (strong, while the stream lives)
    HttpCycle* cycle = nullptr;
    WsSession* ws = nullptr;
    H2Stream* stream = nullptr;  // owned by the cycle or session
  };
  // What a request or its bytes turn into once feed() returns (no Python work inside feed()
  // that could call the core back).
  // in_feed_ is true exactly while the core runs (or while an upgrade's stream 1 starts).
  class InFeed {
   public:
    explicit InFeed(bool& flag) : flag_(&flag) { *flag_ = true; }
    ~InFeed() { release(); }
    InFeed(const InFeed&) = delete;
    InFeed& operator=(const InFeed&) = delete;
    void release() {
      if (flag_ != nullptr) *flag_ = false;
      flag_ = nullptr;
    }

   private:
    bool* flag_;
  };
  struct Pending {
    // kStart: the stream's app (an eager one runs at once, and may answer through the core).
    // kWsData with no bytes: END_STREAM.
    enum class Kind { kStart, kError, kWsData } kind;
    std::uint32_t stream;
    HttpError error{};
    std::string data;
  };

  void attach_common(const Transport& from, pb::object self);
  void feed(std::string_view data);
  void after_feed();
  void start_stream(const http2::Request& request);
  void start_cycle(std::uint32_t id, const struct ScopeRequest& request, bool head,
                   bool expect_continue, bool end_stream);
  void start_websocket(const http2::Request& request);
  // A copy of the entry: an eager app may end the stream, and erase its entry, as it runs.
  void start_app(std::uint32_t id, Entry entry);
  // A failure of ours on the stream (logged already): a 500 ends it once this read is done, or
  // a reset if its response has begun (after_feed).
  void fail_stream(std::uint32_t id);
  Entry* find(std::uint32_t id);
  // The client reset the stream or the connection is lost: its app learns it (http.disconnect,
  // websocket.disconnect 1006, a waiting send()). `where` names it in the log.
  void stream_lost(Entry& entry, const char* where) noexcept;
  // pending_ and deliver_ come from the thread's pools for a read and are kept (emptied) from
  // read to read while the connection is busy; give_back() returns them.
  void take_scratch();
  void give_scratch();
  void drop_streams_table();  // the streams map's bucket array, once no stream is left
  // What the connection keeps for its next requests (the core's streams, arena, lists and
  // output buffer, the per-read lists, the streams map's buckets) back to the thread's pools.
  void give_back();
  // give_back() now if no stream is left and the connection is not busy (fewer than
  // kBusyAfter requests since it was last idle): a lone request leaves nothing behind, while a
  // busy connection keeps everything until the idle sweep (kTrimAfter).
  void give_back_unless_busy();
  void close_when_done() noexcept;
  void close() noexcept;

  pb::object context_obj_;
  HttpContext* ctx_;
  Transport transport_;
  http2::Connection conn_;
  pb::object self_;
  std::unordered_map<std::uint32_t, Entry> streams_;
  std::vector<Pending> pending_;  // filled during feed(), run after it
  std::vector<std::uint32_t> deliver_;  // streams whose app may have body bytes to receive
  bool in_feed_ = false;
  bool reading_ = false;        // after_feed() runs (the per-read lists are in use)
  bool upgrading_ = false;      // an h2c upgrade's 101 is not written yet: hold every output
  std::size_t starting_ = 0;    // apps queued to start after this read (--limit-concurrency)
  bool shutting_down_ = false;  // our GOAWAY sent: close when no stream is left
  bool peer_goaway_ = false;    // the client's GOAWAY: no new streams will come
  bool failed_ = false;         // a connection error: close after writing the GOAWAY
  bool trimmed_ = false;        // idle buffers given back (reset by the next read)
  std::uint32_t served_ = 0;    // requests since the connection was last idle (to kBusyAfter)
  double idle_since_ = 0;       // when the last stream ended (or the connection began)
  double last_read_ = 0;
  double ping_sent_ = 0;
  double block_since_ = 0;      // when a still-open header block began
};

// Registers H2Protocol (the asyncio callbacks, shutdown/abort).
void register_http2(pb::module_& m);

}  // namespace ruvicorn::py
