// --metrics, the binding's side: the per-request hooks (metrics_hooks.hpp), the gauges sampled
// from the live protocols, and the functions ruvicorn.metrics calls (attach a slot, app called,
// publish, read and fold slots at scrape time).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <string>

#include "cycle.hpp"
#include "h2_protocol.hpp"
#include "h3_protocol.hpp"
#include "metrics_hooks.hpp"
#include "protocol.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

using metrics::Slot;

// Reads what the protocols and cycles keep private (each names it a friend).
struct MetricsProbe {
  static int status(const HttpCycle& c) { return c.status_; }
  static bool disconnected(const HttpCycle& c) { return c.disconnected_; }
  static RequestMeter& meter(HttpCycle& c) { return c.meter; }
  static bool websocket(const HttpProtocol& p) { return p.ws_ != nullptr; }
  static Transport& transport(HttpProtocol& p) { return p.transport_; }
  static std::uint64_t streams(const H3Protocol& p) { return p.streams_.size(); }
  static void streams(const H2Protocol& p, std::uint64_t& requests, std::uint64_t& websockets) {
    for (const auto& [id, entry] : p.streams_) {
      if (entry.ws != nullptr) {
        ++websockets;
      } else {
        ++requests;
      }
    }
  }
};

namespace {

constexpr std::size_t kMaxPending = 4096;  // held responses of transports that never write again

// `end`: when the response's last bytes were handed over (an earlier write when the last
// message added none, e.g. an empty final body: its share is then 0).
void finish(Slot& slot, const MetricsState::Pending& r, std::uint64_t end) {
  metrics::Totals& t = slot.totals;
  end = std::max({end, r.head_ns, r.last_send_ns});
  t.requests[r.protocol][r.method][r.status].add();
  t.duration[r.protocol].observe(end - r.head_ns);
  if (r.last_send_ns != 0) t.respond[r.protocol].observe(end - r.last_send_ns);
}

// A writable buffer of at least one slot, 8-byte aligned (Python raises otherwise).
Slot* slot_of(const Py_buffer& view) {
  if (view.readonly) throw pb::value_error("metrics memory must be writable");
  if (static_cast<std::size_t>(view.len) < sizeof(Slot)) {
    throw pb::value_error("metrics memory is smaller than one slot");
  }
  if (reinterpret_cast<std::uintptr_t>(view.buf) % alignof(Slot) != 0) {
    throw pb::value_error("metrics memory is not aligned");
  }
  return static_cast<Slot*>(view.buf);
}

// Holds a buffer for the duration of a call.
class BufferHold {
 public:
  explicit BufferHold(const pb::handle& obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_WRITABLE) < 0) throw pb::error_already_set();
  }
  ~BufferHold() { PyBuffer_Release(&view_); }
  BufferHold(const BufferHold&) = delete;
  BufferHold& operator=(const BufferHold&) = delete;
  Slot& slot() const { return *slot_of(view_); }

 private:
  Py_buffer view_{};
};

void init_slot(Slot& slot) {
  if (slot.magic.get() == metrics::kMagic) return;
  new (&slot) Slot();  // the memory starts zeroed (a fresh mapping): cells are just constructed
  slot.size.set(sizeof(Slot));
  slot.magic.set(metrics::kMagic);
}

const Slot& checked(const Slot& slot) {
  if (slot.magic.get() != metrics::kMagic || slot.size.get() != sizeof(Slot)) {
    throw pb::value_error("not a ruvicorn metrics slot of this build");
  }
  return slot;
}

void add_histogram(std::uint64_t (&into)[metrics::kBuckets + 2], const metrics::Histogram& h) {
  for (std::size_t i = 0; i <= metrics::kBuckets; ++i) into[i] += h.buckets[i].get();
  into[metrics::kBuckets + 1] += h.sum_ns.get();
}

// [(protocol, [bucket counts (not cumulative), ..., +Inf], sum_seconds)] for protocols seen.
pb::list histogram_list(const std::uint64_t (&h)[metrics::kProtocols][metrics::kBuckets + 2]) {
  pb::list out;
  for (std::size_t p = 0; p < metrics::kProtocols; ++p) {
    std::uint64_t n = 0;
    pb::list buckets;
    for (std::size_t i = 0; i <= metrics::kBuckets; ++i) {
      n += h[p][i];
      buckets.append(h[p][i]);
    }
    if (n == 0) continue;
    out.append(pb::make_tuple(std::string(metrics::protocol_label(static_cast<metrics::Protocol>(p))),
                              buckets, static_cast<double>(h[p][metrics::kBuckets + 1]) / 1e9));
  }
  return out;
}

// Totals summed over `buffers` (each a slot), and each slot's gauges.
pb::dict read_slots(const pb::list& buffers) {
  std::uint64_t requests[metrics::kProtocols][metrics::kMethods][metrics::kStatuses] = {};
  std::uint64_t duration[metrics::kProtocols][metrics::kBuckets + 2] = {};
  std::uint64_t dispatch[metrics::kProtocols][metrics::kBuckets + 2] = {};
  std::uint64_t respond[metrics::kProtocols][metrics::kBuckets + 2] = {};
  std::uint64_t errors[metrics::kErrorKinds] = {};
  std::uint64_t h2_errors[metrics::kH2ErrorCodes] = {};
  pb::list gauges;
  for (pb::handle buffer : buffers) {
    BufferHold hold(buffer);
    if (hold.slot().magic.get() == 0) {  // its worker has not started counting yet
      gauges.append(pb::none());
      continue;
    }
    const Slot& slot = checked(hold.slot());
    const metrics::Totals& t = slot.totals;
    for (std::size_t p = 0; p < metrics::kProtocols; ++p) {
      for (std::size_t m = 0; m < metrics::kMethods; ++m) {
        for (std::size_t s = 0; s < metrics::kStatuses; ++s) {
          requests[p][m][s] += t.requests[p][m][s].get();
        }
      }
      add_histogram(duration[p], t.duration[p]);
      add_histogram(dispatch[p], t.dispatch[p]);
      add_histogram(respond[p], t.respond[p]);
    }
    for (std::size_t e = 0; e < metrics::kErrorKinds; ++e) errors[e] += t.errors[e].get();
    for (std::size_t c = 0; c < metrics::kH2ErrorCodes; ++c) h2_errors[c] += t.h2_errors[c].get();
    const metrics::Gauges& g = slot.gauges;
    pb::dict connections;
    for (std::size_t c = 0; c < metrics::kConnectionKinds; ++c) {
      connections[pb::str(std::string(metrics::connection_label(
          static_cast<metrics::ConnectionKind>(c))))] = g.connections[c].get();
    }
    pb::dict worker;
    worker["pid"] = slot.pid.get();
    worker["start_time"] = static_cast<double>(slot.start_unix_ns.get()) / 1e9;
    worker["connections"] = connections;
    worker["websockets"] = g.websockets.get();
    worker["h2_streams"] = g.h2_streams.get();
    worker["h3_streams"] = g.h3_streams.get();
    worker["write_buffer_bytes"] = g.write_buffer_bytes.get();
    worker["writing_paused"] = g.writing_paused.get();
    worker["loop_lag"] = static_cast<double>(g.loop_lag_ns.get()) / 1e9;
    worker["published"] = static_cast<double>(g.published_unix_ns.get()) / 1e9;
    gauges.append(worker);
  }
  pb::list request_list;
  for (std::size_t p = 0; p < metrics::kProtocols; ++p) {
    for (std::size_t m = 0; m < metrics::kMethods; ++m) {
      for (std::size_t s = 0; s < metrics::kStatuses; ++s) {
        if (requests[p][m][s] == 0) continue;
        request_list.append(pb::make_tuple(
            std::string(metrics::protocol_label(static_cast<metrics::Protocol>(p))),
            std::string(metrics::method_label(static_cast<metrics::MethodClass>(m))),
            std::string(metrics::status_label(static_cast<metrics::StatusClass>(s))),
            requests[p][m][s]));
      }
    }
  }
  pb::list error_list;
  for (std::size_t e = 0; e < metrics::kErrorKinds; ++e) {
    error_list.append(pb::make_tuple(
        std::string(metrics::error_label(static_cast<metrics::ErrorKind>(e))), errors[e]));
  }
  pb::list h2_error_list;
  for (std::size_t c = 0; c < metrics::kH2ErrorCodes; ++c) {
    if (h2_errors[c] == 0) continue;
    const std::string name = c + 1 < metrics::kH2ErrorCodes
                                 ? std::string(http2::error_code_name(static_cast<http2::ErrorCode>(c)))
                                 : std::string("other");
    h2_error_list.append(pb::make_tuple(name, h2_errors[c]));
  }
  pb::list bounds;
  for (std::uint64_t b : metrics::kBucketBoundsNs) bounds.append(static_cast<double>(b) / 1e9);
  pb::dict out;
  out["requests"] = request_list;
  out["duration"] = histogram_list(duration);
  out["dispatch"] = histogram_list(dispatch);
  out["respond"] = histogram_list(respond);
  out["errors"] = error_list;
  out["h2_errors"] = h2_error_list;
  out["bounds"] = bounds;
  out["workers"] = gauges;
  return out;
}

// Bytes held in our output buffer plus those the asyncio transport has not written yet.
std::uint64_t write_buffer_size(Transport& transport) {
  if (transport.closed() || !transport.handle() || transport.handle().is_none()) return 0;
  const std::uint64_t n = transport.out().size();
  PyObject* r = PyObject_CallMethod(transport.handle().ptr(), "get_write_buffer_size", nullptr);
  if (r == nullptr) {
    PyErr_Clear();  // a transport without it (or closing): nothing to count
    return n;
  }
  const unsigned long long size = PyLong_AsUnsignedLongLong(r);
  Py_DECREF(r);
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return n;
  }
  return n + size;
}

// Samples the gauges from the live protocols (every publish interval, in the loop's thread).
void publish(HttpContext& ctx, double lag_seconds) {
  if (!ctx.metrics) return;
  std::uint64_t connections[metrics::kConnectionKinds] = {};
  std::uint64_t websockets = 0, streams = 0, h3_streams = 0, buffered = 0, paused = 0;
  for (Sweepable* live : ctx.live) {
    Transport* transport = nullptr;
    if (auto* h1 = dynamic_cast<HttpProtocol*>(live)) {
      ++connections[metrics::kConnHttp1];
      if (MetricsProbe::websocket(*h1)) ++websockets;
      transport = &MetricsProbe::transport(*h1);
    } else if (auto* h2 = dynamic_cast<H2Protocol*>(live)) {
      ++connections[metrics::kConnHttp2];
      MetricsProbe::streams(*h2, streams, websockets);
      transport = &h2->transport();
    } else if (auto* h3 = dynamic_cast<H3Protocol*>(live)) {
      // QUIC's buffers are the library's: an HTTP/3 connection has no write buffer of ours.
      ++connections[metrics::kConnHttp3];
      h3_streams += MetricsProbe::streams(*h3);
    }
    if (transport == nullptr) continue;
    if (transport->writing_paused()) ++paused;
    buffered += write_buffer_size(*transport);
  }
  metrics::Gauges& g = ctx.metrics->slot->gauges;
  for (std::size_t c = 0; c < metrics::kConnectionKinds; ++c) g.connections[c].set(connections[c]);
  g.websockets.set(websockets);
  g.h2_streams.set(streams);
  g.h3_streams.set(h3_streams);
  g.write_buffer_bytes.set(buffered);
  g.writing_paused.set(paused);
  g.loop_lag_ns.set(lag_seconds > 0 ? static_cast<std::uint64_t>(lag_seconds * 1e9) : 0);
  g.published_unix_ns.set(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count()));
}

void attach(HttpContext& ctx, const pb::object& buffer) {
  auto state = std::make_shared<MetricsState>();
  if (PyObject_GetBuffer(buffer.ptr(), &state->view, PyBUF_WRITABLE) < 0) {
    throw pb::error_already_set();
  }
  state->has_view = true;
  state->slot = slot_of(state->view);  // throws: the state releases the view
  init_slot(*state->slot);
  state->slot->pid.set(static_cast<std::uint64_t>(getpid()));
  state->slot->start_unix_ns.set(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count()));
  ctx.metrics = std::move(state);
}

PyObject* app_called(PyObject*, PyObject* arg) {
  pb::detail::make_caster<HttpCycle> caster;
  if (!caster.load(arg, false)) {
    PyErr_SetString(PyExc_TypeError, "metrics_app_called() needs an HttpCycle");
    return nullptr;
  }
  HttpCycle* cycle = static_cast<HttpCycle*>(caster);
  if (cycle != nullptr) {
    RequestMeter& meter = MetricsProbe::meter(*cycle);
    if (meter.slot != nullptr) {
      meter.slot->totals.dispatch[meter.protocol].observe(metrics::now_ns() - meter.head_ns);
    }
  }
  Py_RETURN_NONE;
}

}  // namespace

MetricsState::~MetricsState() {
  if (has_view) PyBuffer_Release(&view);
}

// --- the hooks' work -------------------------------------------------------------------------------

void metrics_request_on(MetricsState& m, HttpCycle& cycle, std::uint64_t head_ns,
                        metrics::Protocol protocol, std::string_view method) {
  RequestMeter& meter = MetricsProbe::meter(cycle);
  meter.slot = m.slot;
  meter.head_ns = head_ns;
  meter.protocol = protocol;
  meter.method = metrics::method_class(method);
}

void metrics_response_done_on(MetricsState& m, const Transport* transport, HttpCycle& cycle) {
  RequestMeter& meter = MetricsProbe::meter(cycle);
  if (meter.slot == nullptr || meter.counted) return;
  meter.counted = true;
  const MetricsState::Pending record{transport, meter.head_ns, meter.last_send_ns,
                                     meter.protocol, meter.method,
                                     metrics::status_class(MetricsProbe::status(cycle))};
  if (transport == nullptr || transport->closed() || transport->out().empty()) {
    // Written in the app's last send() (HTTP/1.1); what came since is the access log line.
    finish(*m.slot, record, metrics::now_ns());
    return;
  }
  if (m.pending.size() >= kMaxPending) {
    finish(*m.slot, m.pending.front(), metrics::now_ns());
    m.pending.erase(m.pending.begin());
  }
  m.pending.push_back(record);
}

void metrics_written_on(MetricsState& m, const Transport& transport) {
  const std::uint64_t now = metrics::now_ns();
  auto done = std::remove_if(m.pending.begin(), m.pending.end(),
                             [&](const MetricsState::Pending& r) {
                               if (r.transport != &transport) return false;
                               finish(*m.slot, r, now);
                               return true;
                             });
  m.pending.erase(done, m.pending.end());
}

void metrics_cycle_ended_on(HttpCycle& cycle) {
  RequestMeter& meter = MetricsProbe::meter(cycle);
  if (meter.counted) return;
  meter.counted = true;
  // No complete response: what the client got is the head the app started, the server's 500
  // for an app that failed before it (abort_response), or nothing if the client had gone.
  metrics::StatusClass status = metrics::k5xx;
  if (cycle.response_started()) {
    status = metrics::status_class(MetricsProbe::status(cycle));
  } else if (MetricsProbe::disconnected(cycle)) {
    status = metrics::kNoResponse;
  }
  const MetricsState::Pending record{nullptr, meter.head_ns, 0, meter.protocol, meter.method,
                                     status};
  finish(*meter.slot, record, metrics::now_ns());
}

// --- Python --------------------------------------------------------------------------------------

void register_metrics(pb::module_& m) {
  m.attr("METRICS_SLOT_SIZE") = sizeof(Slot);
  m.def("metrics_attach", &attach, pb::arg("context"), pb::arg("memory"),
        "Counts this server's metrics into `memory` (a writable buffer of METRICS_SLOT_SIZE "
        "bytes, zeroed or a slot this build made).");
  // Called once per request from the app's task: a plain METH_O function, without pybind11's
  // dispatch (measured: about 150 ns less a request).
  static PyMethodDef app_called_def = {
      "metrics_app_called", app_called, METH_O,
      "The app's task has started: the head-to-app share is observed."};
  PyObject* fn = PyCFunction_NewEx(&app_called_def, nullptr, m.attr("__name__").ptr());
  if (fn == nullptr) throw pb::error_already_set();
  m.add_object("metrics_app_called", pb::reinterpret_steal<pb::object>(fn));
  m.def("metrics_publish", &publish, pb::arg("context"), pb::arg("loop_lag"),
        "Samples the gauges (connections, WebSockets, streams, write buffers) and the loop lag.");
  m.def("metrics_read", &read_slots, pb::arg("memories"),
        "Totals summed over the slots in `memories`, and each slot's gauges.");
  m.def(
      "metrics_fold",
      [](const pb::object& into, const pb::object& from) {
        BufferHold to(into);
        BufferHold source(from);
        init_slot(to.slot());
        if (source.slot().magic.get() == 0) return;  // a worker that never counted
        metrics::fold(to.slot().totals, checked(source.slot()).totals);
      },
      pb::arg("into"), pb::arg("source"),
      "Adds the totals of `source` (a worker that has exited) to `into`.");
}

}  // namespace ruvicorn::py
