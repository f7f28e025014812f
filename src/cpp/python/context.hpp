// Per-server state shared by every connection: limits, response options, the app and the Python
// objects the protocols need (loop, run coroutine, registries). Built once by
// ruvicorn.protocols.create_http_context() from Config.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ruvicorn/limits.hpp"
#include "ruvicorn/parser.hpp"
#include "ruvicorn/response.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class Transport;
struct MetricsState;  // metrics_hooks.hpp

// A protocol object the periodic sweep visits (deadlines, keep-alive pings).
class Sweepable {
 public:
  virtual ~Sweepable() = default;
  virtual void sweep(double now) = 0;
};

struct HttpContext {
  Limits limits;
  http1::ParserKind parser = http1::ParserKind::kPico;
  ResponseConfig response;
  double timeout_keep_alive = 5.0;
  double timeout_request_header = 10.0;
  std::size_t limit_concurrency = 0;  // 0: no limit
  bool ws_enabled = true;
  bool reset_contextvars = false;  // run each app task in a fresh, empty contextvars.Context
  bool http2 = true;               // ALPN h2, prior knowledge and Upgrade: h2c
  double h2_keep_alive_interval = 0;  // PING an idle HTTP/2 connection this often (0: never)
  double h2_keep_alive_timeout = 20;  // close it when the PING is not answered within this

  pb::object app;
  pb::object loop;
  // `loop` is not an asyncio event loop but an object with create_task() and call_later() (a
  // protocol built as uvicorn's, on a caller's loop): decided once, when the context is built.
  // Futures and call_soon() then come from the running asyncio loop, output is written at once
  // instead of held to the end of the loop iteration, and tasks are not started eagerly.
  bool plain_loop = false;
  // The deadline sweep goes on while no connection is live (a server's). False: it stops, and
  // the next connection_made() re-arms it (a context that nobody stops).
  bool sweep_while_idle = true;
  pb::object run_http;        // coroutine function run_asgi(app, scope, cycle)
  pb::object run_websocket;   // the same for WebSockets (app, scope, session), or None: no upgrades
  pb::object connections;     // set of open protocols (ServerState.connections)
  pb::object tasks;           // set of app tasks (ServerState.tasks)
  pb::object lifespan_state;  // dict copied into scope["state"], or None
  pb::object root_path;       // str
  pb::object access_log;      // callable(scope, status, size) or None
  pb::object logger;          // ruvicorn.error logger
  pb::object ws_options;      // WsOptions for the websocket glue
  pb::object proxy_trusted;   // --proxy-headers: TrustedHosts (supports `in`), or None
  pb::object proxy_apply;     // callable(trusted, scope, proto|None, forwarded_for|None)
  pb::object tls_extension;   // callable(ssl_object) -> scope["extensions"]["tls"], or None
  std::shared_ptr<MetricsState> metrics;  // --metrics: the server's counters, or empty
  // The last connection's client host and server (host, port) (Transport::attach): a connection
  // whose are equal shares these objects instead of holding copies of its own.
  pb::object last_client_host, last_server;

  std::uint64_t total_requests = 0;
  std::unordered_set<Sweepable*> live;  // for the deadline sweep
  pb::object timer;                     // TimerHandle of the next sweep
  pb::object tick_fn;
  bool timers_running = false;

  // Transports whose output buffer holds response bytes not yet written: a head waiting for the
  // first body bytes, streamed chunks or frames collected so that what apps send in one step goes
  // out in one write. One call_soon per loop iteration (scheduled when the list stops being
  // empty) writes out whatever is still held, so an app that suspends holds nothing back. The
  // object (the protocol owning the transport) keeps it alive until then.
  std::vector<std::pair<Transport*, pb::object>> held_outputs;
  pb::object flush_outputs_fn;
  bool flush_scheduled = false;

  // Never throws: if the loop refuses the callback, the output waits for the next hold, the
  // next sweep or the response's end (the error is logged).
  void hold_output(Transport& transport, const pb::object& owner) noexcept;
  void flush_held_outputs() noexcept;
  // Schedules the flush of held_outputs (again, after a refused call_soon: from any write).
  void schedule_flush() noexcept;
  void start_timers();
  void stop_timers();
  void tick() noexcept;
  void sweep() noexcept;
  // Re-arms the sweep if a failure of call_later left it unarmed (from connection_made).
  void ensure_timer() noexcept;

  // The one way the binding schedules its callbacks: loop.call_soon(fn) / loop.call_later(delay,
  // fn). The handle, or an empty object when the loop refused (MemoryError, closed loop...): the
  // error is logged as an internal error of `where` and cleared, never thrown, so core callbacks
  // may use them. What a missed call means is the caller's to decide.
  pb::object call_soon(PyObject* fn, const char* where) noexcept;
  pb::object call_later(double delay, PyObject* fn, const char* where) noexcept;
  // TRACE-level lines as uvicorn logs them ("127.0.0.1:5000 - HTTP connection made"), when
  // --log-level trace (trace_log) is on; `client` is (host, port) or None. Never throws.
  void trace(const pb::object& client, const char* what) noexcept;
  bool trace_log = false;

  // The one place that starts an app: run(app, scope, exchange) as a task, from a copy of
  // base_context (an empty one with --reset-contextvars), registered in the server's tasks.
  // `task` is the exchange's own handle (HttpCycle::task, WsSession::task). With eager_task_type
  // the app runs at once, until it first suspends (Python 3.12+): one that does not suspend has
  // answered, and ended its exchange, before this returns; `task` then stays empty (a finished
  // task is not registered: task_finished() already ran, with nothing to forget). `exchange` is
  // held for the call because the protocol may drop it meanwhile, and `task` lives in it.
  void start_app(const pb::object& run, const pb::object& scope, pb::object exchange,
                 pb::object& task);
  void task_finished(pb::object& task);  // forgets the task (and clears the handle)
  // asyncio.Task (Python 3.12+, no task factory set on the loop): tasks start eagerly. None:
  // loop.create_task (scheduled for the next loop iteration; any task factory applies).
  pb::object eager_task_type;
  // The context every app task starts from a copy of: the server's, taken at start-up (what
  // data_received runs in), so that a pipelined request started from inside the previous app's
  // send() does not inherit that app's variables. None: the current context.
  pb::object base_context;
  // A KeyboardInterrupt or SystemExit an eagerly started app raised: re-raised from a loop
  // callback, where it stops the loop as it would have from the task's own step.
  pb::object reraise_fn;
  pb::object make_future() const;
  // The asyncio loop for futures and call_soon(): `loop`, or the running one with plain_loop.
  pb::object event_loop() const;
  mutable pb::object get_running_loop;  // asyncio.get_running_loop, imported at the first use
  // Logs the pending Python exception as an internal error of the server (never of the app) and
  // clears it; never throws. Every binding callback that must not raise ends here.
  void log_internal_error(const char* where) noexcept;
  // Runs fn(); false if it threw: a Python error is logged (as an internal error in `where`),
  // anything else swallowed. For the binding's callbacks, which nothing may unwind out of; the
  // caller decides what a failure costs (usually the connection).
  template <class Fn>
  bool guard(const char* where, Fn&& fn) noexcept {
    try {
      fn();
      return true;
    } catch (pybind11::error_already_set& e) {
      e.restore();
      log_internal_error(where);
    } catch (...) {
    }
    return false;
  }
  // ServerState.connections: a protocol joins (may raise) and leaves (never raises).
  void add_connection(const pb::object& protocol);
  void forget_connection(const pb::object& protocol) noexcept;
  // Is the server at --limit-concurrency (connections or tasks)? `starting`: app tasks about to
  // start that are not registered yet (HTTP/2 starts a read's streams once the read is parsed).
  bool over_concurrency(std::size_t starting = 0) const;
};

// Monotonic seconds (steady clock), cheap enough to call per request.
double monotonic_now();

}  // namespace ruvicorn::py
