// Per-server state shared by every connection: limits, response options, the app and the Python
// objects the protocol needs (loop, run coroutine, registries). Built once by
// ruvicorn.protocols.create_http_factory() from Config.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ruvicorn/limits.hpp"
#include "ruvicorn/parser.hpp"
#include "ruvicorn/response.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpProtocol;

struct HttpContext {
  Limits limits;
  http1::ParserKind parser = http1::ParserKind::kPico;
  ResponseConfig response;
  double timeout_keep_alive = 5.0;
  double timeout_request_header = 10.0;
  std::size_t limit_concurrency = 0;  // 0: no limit
  bool ws_enabled = true;
  bool reset_contextvars = false;  // run each app task in a fresh, empty contextvars.Context

  pb::object app;
  pb::object loop;
  pb::object run_http;        // coroutine function run_asgi(app, scope, cycle)
  pb::object run_websocket;   // the same for WebSockets (app, scope, session), or None: no upgrades
  pb::object connections;     // set of open protocols (ServerState.connections)
  pb::object tasks;           // set of app tasks (ServerState.tasks)
  pb::object lifespan_state;  // dict copied into scope["state"], or None
  pb::object root_path;       // str
  pb::object access_log;      // callable(scope, status, size) or None
  pb::object logger;          // ruvicorn.error logger
  pb::object ws_options;      // dict of WebSocket options for the websocket glue
  pb::object proxy_trusted;   // --proxy-headers: TrustedHosts (supports `in`), or None
  pb::object proxy_apply;     // callable(trusted, scope, proto|None, forwarded_for|None)

  std::uint64_t total_requests = 0;
  std::unordered_set<HttpProtocol*> live;  // for the deadline sweep
  pb::object timer;                        // TimerHandle of the next sweep
  pb::object tick_fn;
  bool timers_running = false;

  // Protocols whose output buffer holds response bytes not yet written: a head waiting for the
  // first body bytes, or streamed chunks collected so that what an app sends in one step goes out
  // in one write. One call_soon per loop iteration (scheduled when the list stops being empty)
  // writes out whatever is still held, so an app that suspends holds nothing back. The object
  // keeps the protocol alive until then.
  std::vector<std::pair<HttpProtocol*, pb::object>> held_outputs;
  pb::object flush_outputs_fn;

  void hold_output(HttpProtocol& protocol);
  void flush_held_outputs();
  void start_timers();
  void stop_timers();
  void tick();
  void sweep();
};

// Monotonic seconds (steady clock), cheap enough to call per request.
double monotonic_now();

}  // namespace ruvicorn::py
