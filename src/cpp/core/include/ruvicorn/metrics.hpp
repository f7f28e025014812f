// Server metrics (the Prometheus series of ruvicorn.metrics): counters and fixed-bucket
// histograms in one flat struct of 64-bit cells. Each slot has one writer (a server's event-loop
// thread) and is read by others at scrape time, possibly from another process (with --workers
// the slot lives in memory shared with the supervisor): cells are relaxed atomics, written with
// a plain load and store (no locked instruction), and the struct holds nothing but cells.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruvicorn/error.hpp"

namespace ruvicorn::metrics {

// Label values. Each enum's last item is its count.
enum Protocol : std::uint8_t { kHttp10, kHttp11, kHttp2, kHttp3, kProtocols };
enum MethodClass : std::uint8_t {
  kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOtherMethod, kMethods
};
// kNoResponse: the client went away (or reset the stream) before any response.
enum StatusClass : std::uint8_t { k1xx, k2xx, k3xx, k4xx, k5xx, kNoResponse, kStatuses };
// Requests the server answered itself, without the app.
enum ErrorKind : std::uint8_t {
  kBadRequest,        // 400
  kSmuggling,         // 400 for an ambiguous framing (HttpError::smuggling)
  kHeadTimeout,       // 408: no complete head within --timeout-request-header
  kBodyTooLarge,      // 413
  kUriTooLong,        // 414
  kHeadersTooLarge,   // 431
  kNotImplemented,    // 501, 505
  kOverloaded,        // 503: --limit-concurrency
  kOtherError,
  kErrorKinds
};
// Open connections by the protocol they speak.
enum ConnectionKind : std::uint8_t { kConnHttp1, kConnHttp2, kConnHttp3, kConnectionKinds };
constexpr std::size_t kH2ErrorCodes = 15;  // RFC 9113 7: 0x0-0xd, then "other"

std::string_view protocol_label(Protocol p);
std::string_view method_label(MethodClass m);
std::string_view status_label(StatusClass s);
std::string_view error_label(ErrorKind e);
std::string_view connection_label(ConnectionKind c);

MethodClass method_class(std::string_view method);
StatusClass status_class(int status);  // 0: kNoResponse
ErrorKind error_kind(const HttpError& error);

// One bucket layout for every histogram: 1 µs to 10 s, so that the server's own share (µs) and
// whole requests (ms to s) are read with the same bounds.
constexpr std::size_t kBuckets = 22;
extern const std::uint64_t kBucketBoundsNs[kBuckets];

class Cell {
 public:
  void add(std::uint64_t n = 1) { set(get() + n); }
  void set(std::uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};
static_assert(sizeof(Cell) == 8 && std::atomic<std::uint64_t>::is_always_lock_free,
              "cells are read from another process: plain lock-free 64-bit words");

struct Histogram {
  Cell buckets[kBuckets + 1];  // per bucket, not cumulative; the last is +Inf
  Cell sum_ns;
  void observe(std::uint64_t ns);
};

// What only grows: a retired worker's totals are added to the supervisor's (fold).
struct Totals {
  Cell requests[kProtocols][kMethods][kStatuses];
  Histogram duration[kProtocols];  // head parsed -> last byte written (or the exchange's end)
  Histogram dispatch[kProtocols];  // head parsed -> app called
  Histogram respond[kProtocols];   // the app's last message -> last byte written
  Cell errors[kErrorKinds];
  Cell h2_errors[kH2ErrorCodes];   // HTTP/2 connection errors by code
};

// Sampled by the server every publish interval.
struct Gauges {
  Cell connections[kConnectionKinds];
  Cell websockets;
  Cell h2_streams;
  Cell h3_streams;
  Cell write_buffer_bytes;   // response bytes not yet taken by the kernel
  Cell writing_paused;       // connections whose client does not read (pause_writing)
  Cell loop_lag_ns;          // the last sample of the event loop's lateness
  Cell published_unix_ns;
};

constexpr std::uint64_t kMagic = 0x3173636972746d72;  // "rmtrics1"

struct Slot {
  Cell magic;
  Cell size;
  Cell pid;
  Cell start_unix_ns;
  Totals totals;
  Gauges gauges;
};

// Adds `from`'s totals to `into` (a worker that has exited: its counts stay in the sum).
void fold(Totals& into, const Totals& from);

// Monotonic nanoseconds (steady clock).
std::uint64_t now_ns();

}  // namespace ruvicorn::metrics
