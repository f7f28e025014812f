// --metrics in the binding: what the protocols call at a request's milestones, counting into the
// server's metrics::Slot (ruvicorn/metrics.hpp). With metrics off, HttpContext::metrics is empty
// and every hook is one inline null check: no clock read, no Python.
//
// A request's milestones: head parsed (metrics_request), app called (ruvicorn.metrics calls
// _core.metrics_app_called from the app's task), its last message (RequestMeter::on_send), response
// complete (metrics_response_done) and its last bytes handed to the transport (at once, or at
// the transport's next write: metrics_written), or the app's end without a complete response
// (metrics_cycle_ended).
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "context.hpp"
#include "ruvicorn/error.hpp"
#include "ruvicorn/metrics.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;
class Transport;

// One request as the metrics see it (a member of its HttpCycle).
struct RequestMeter {
  metrics::Slot* slot = nullptr;  // null: not metered
  std::uint64_t head_ns = 0;      // the head was parsed
  std::uint64_t last_send_ns = 0; // the app's last message (send()) began
  metrics::Protocol protocol = metrics::kHttp11;
  metrics::MethodClass method = metrics::kGet;
  bool counted = false;

  void on_send() {
    if (slot != nullptr) last_send_ns = metrics::now_ns();
  }
};

// The server's metrics (HttpContext::metrics): its slot and the complete responses whose last
// bytes still wait in a transport's held output (HTTP/2 frames written at the end of the loop
// iteration, a paused transport).
struct MetricsState {
  struct Pending {
    const Transport* transport;
    std::uint64_t head_ns, last_send_ns;
    metrics::Protocol protocol;
    metrics::MethodClass method;
    metrics::StatusClass status;
  };

  MetricsState() = default;
  MetricsState(const MetricsState&) = delete;
  MetricsState& operator=(const MetricsState&) = delete;
  ~MetricsState();

  metrics::Slot* slot = nullptr;
  Py_buffer view{};  // the memory the slot lives in, held for the context's life
  bool has_view = false;
  std::vector<Pending> pending;
};

// Out of line: the work done when metrics are on.
void metrics_request_on(MetricsState& m, HttpCycle& cycle, std::uint64_t head_ns,
                        metrics::Protocol protocol, std::string_view method);
// transport: where the last bytes may still wait (null: sent by other means, HTTP/3's datagrams).
void metrics_response_done_on(MetricsState& m, const Transport* transport, HttpCycle& cycle);
void metrics_cycle_ended_on(HttpCycle& cycle);
void metrics_written_on(MetricsState& m, const Transport& transport);

// --- the hooks -----------------------------------------------------------------------------------

// When the head was parsed: take it before the scope is built (0 with metrics off).
inline std::uint64_t metrics_clock(const HttpContext& ctx) {
  return ctx.metrics ? metrics::now_ns() : 0;
}
// The cycle for a parsed request exists (its app task not yet started).
inline void metrics_request(HttpContext& ctx, HttpCycle& cycle, std::uint64_t head_ns,
                            metrics::Protocol protocol, std::string_view method) {
  if (ctx.metrics) metrics_request_on(*ctx.metrics, cycle, head_ns, protocol, method);
}
// The response is complete (ResponseSink::response_done).
inline void metrics_response_done(HttpContext& ctx, const Transport* transport, HttpCycle& cycle) {
  if (ctx.metrics) metrics_response_done_on(*ctx.metrics, transport, cycle);
}
// The app's task ended (returned or raised).
inline void metrics_cycle_ended(const RequestMeter& meter, HttpCycle& cycle) {
  if (meter.slot != nullptr) metrics_cycle_ended_on(cycle);
}
// The transport wrote (or, detaching, never will): held responses are done.
inline void metrics_written(HttpContext& ctx, const Transport& transport) {
  if (ctx.metrics && !ctx.metrics->pending.empty()) metrics_written_on(*ctx.metrics, transport);
}
// A request the server answered itself (parse error, 408, 503).
inline void metrics_error(HttpContext& ctx, const HttpError& error) {
  if (ctx.metrics) ctx.metrics->slot->totals.errors[metrics::error_kind(error)].add();
}
// An HTTP/2 connection error (the code of the GOAWAY sent).
inline void metrics_h2_error(HttpContext& ctx, std::uint32_t code) {
  if (ctx.metrics) {
    ctx.metrics->slot->totals.h2_errors[code < metrics::kH2ErrorCodes - 1
                                            ? code
                                            : metrics::kH2ErrorCodes - 1].add();
  }
}

// Registers _core.metrics_* (attach, app_called, publish, read, fold).
void register_metrics(pb::module_& m);

}  // namespace ruvicorn::py
