// ruvicorn._core: the Python binding over the C++ core. Registers the protocol, the per-request
// cycle and the per-server context; everything Python-specific lives in this directory.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <type_traits>

#include "awaitables.hpp"
#include "context.hpp"
#include "cycle.hpp"
#include "fast_method.hpp"
#include "h2_protocol.hpp"
#include "h3_protocol.hpp"
#include "metrics_hooks.hpp"
#include "names.hpp"
#include "protocol.hpp"
#include "ruvicorn/parser.hpp"
#include "ruvicorn/version.hpp"
#include "websocket.hpp"

namespace pb = pybind11;
void register_hpack_hooks(pybind11::module_& m);
using namespace ruvicorn;
using namespace ruvicorn::py;

namespace ruvicorn::py {
pb::object parse_request_to_scope(pb::bytes data, const std::string& parser);
int parse_heads(pb::bytes data, const std::string& backend, int times);
void register_build_info(pb::module_& m);
}

namespace {

// The one table of limit names shared with Python (Config, the CLI's defaults): a name, a
// pointer to the Limits field. Defaults come from Limits itself (_core.LIMIT_DEFAULTS).
template <class Fn>
void for_each_limit(Limits& limits, Fn&& fn) {
  fn("max_request_line", limits.max_request_line);
  fn("max_header_count", limits.max_header_count);
  fn("max_header_field_size", limits.max_header_field_size);
  fn("max_head_size", limits.max_head_size);
  fn("max_body_size", limits.max_body_size);
  fn("high_water", limits.high_water);
  fn("max_drain", limits.max_drain);
  fn("ws_max_message", limits.ws_max_message);
  fn("ws_max_queue", limits.ws_max_queue);
  fn("ws_max_queue_bytes", limits.ws_max_queue_bytes);
  fn("h2_max_concurrent_streams", limits.h2_max_concurrent_streams);
  fn("h2_initial_stream_window", limits.h2_initial_stream_window);
  fn("h2_initial_connection_window", limits.h2_initial_connection_window);
  fn("h2_max_frame_size", limits.h2_max_frame_size);
  fn("h2_max_header_list_size", limits.h2_max_header_list_size);
  fn("h2_header_table_size", limits.h2_header_table_size);
  fn("h3_max_concurrent_streams", limits.h3_max_concurrent_streams);
  fn("h3_max_field_section_size", limits.h3_max_field_section_size);
  fn("h3_receive_buffer", limits.h3_receive_buffer);
}

pb::dict limit_defaults() {
  Limits defaults;
  pb::dict out;
  for_each_limit(defaults, [&](const char* name, auto& field) {
    out[name] = pb::int_(static_cast<std::uint64_t>(field));
  });
  return out;
}

void configure(HttpContext& ctx, const pb::dict& limits, const std::string& parser,
               bool date_header, bool server_header,
               const std::vector<std::pair<std::string, std::string>>& default_headers) {
  for (auto item : limits) {
    const std::string key = pb::str(item.first);
    const auto value = item.second.cast<std::uint64_t>();
    bool known = false;
    for_each_limit(ctx.limits, [&](const char* name, auto& field) {
      if (key != name) return;
      using Field = std::remove_reference_t<decltype(field)>;
      if (value > std::numeric_limits<Field>::max()) {
        throw pb::value_error("limit " + key + " is too large: " + std::to_string(value));
      }
      field = static_cast<Field>(value);
      known = true;
    });
    if (!known) throw pb::value_error("unknown limit: " + key);
  }
  if (!http1::parser_kind_from_name(parser, ctx.parser)) {
    throw pb::value_error("unknown HTTP parser '" + parser + "' (use auto, pico or llhttp)");
  }
  ctx.response.date_header = date_header;
  ctx.response.server_header = server_header;
  ctx.response.default_headers = default_headers;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ruvicorn's C++ protocol core (HTTP/1.1, WebSocket) as an asyncio Protocol";
  m.attr("__version__") = RUVICORN_VERSION;
  init_names();
  if (!init_awaitables()) throw pb::error_already_set();
  m.attr("LIMIT_DEFAULTS") = limit_defaults();

  pb::class_<HttpContext>(m, "HttpContext")
      .def(pb::init<>())
      .def("configure", &configure, pb::arg("limits"), pb::arg("parser"),
           pb::arg("date_header"), pb::arg("server_header"), pb::arg("default_headers"))
      .def_readwrite("timeout_keep_alive", &HttpContext::timeout_keep_alive)
      .def_readwrite("timeout_request_header", &HttpContext::timeout_request_header)
      .def_readwrite("limit_concurrency", &HttpContext::limit_concurrency)
      .def_readwrite("ws_enabled", &HttpContext::ws_enabled)
      .def_readwrite("reset_contextvars", &HttpContext::reset_contextvars)
      .def_readwrite("http2", &HttpContext::http2)
      .def_readwrite("h2_keep_alive_interval", &HttpContext::h2_keep_alive_interval)
      .def_readwrite("h2_keep_alive_timeout", &HttpContext::h2_keep_alive_timeout)
      .def_readwrite("app", &HttpContext::app)
      .def_readwrite("loop", &HttpContext::loop)
      .def_readwrite("plain_loop", &HttpContext::plain_loop)
      .def_readwrite("sweep_while_idle", &HttpContext::sweep_while_idle)
      .def_readwrite("run_http", &HttpContext::run_http)
      .def_readwrite("run_websocket", &HttpContext::run_websocket)
      .def_readwrite("connections", &HttpContext::connections)
      .def_readwrite("tasks", &HttpContext::tasks)
      .def_readwrite("lifespan_state", &HttpContext::lifespan_state)
      .def_readwrite("root_path", &HttpContext::root_path)
      .def_readwrite("access_log", &HttpContext::access_log)
      .def_readwrite("logger", &HttpContext::logger)
      .def_readwrite("trace_log", &HttpContext::trace_log)
      .def_readwrite("ws_options", &HttpContext::ws_options)
      .def_readwrite("proxy_trusted", &HttpContext::proxy_trusted)
      .def_readwrite("proxy_apply", &HttpContext::proxy_apply)
      .def_readwrite("eager_task_type", &HttpContext::eager_task_type)
      .def_readwrite("base_context", &HttpContext::base_context)
      .def_readwrite("reraise_fn", &HttpContext::reraise_fn)
      .def_property(
          "alt_svc", [](const HttpContext& c) { return c.response.alt_svc; },
          [](HttpContext& c, const std::string& value) { c.response.alt_svc = value; })
      .def_readwrite("tls_extension", &HttpContext::tls_extension)
      .def_readonly("total_requests", &HttpContext::total_requests)
      .def_readonly("timers_running", &HttpContext::timers_running)
      .def_property_readonly("parser", [](const HttpContext& c) {
        return c.parser == http1::ParserKind::kLlhttp ? "llhttp" : "pico";
      })
      .def("start_timers", &HttpContext::start_timers)
      .def("stop_timers", &HttpContext::stop_timers)
      .def("sweep", &HttpContext::sweep);

  // data_received runs once per read, receive() and send() once per message: plain CPython
  // functions (fast_method.hpp).
  static PyMethodDef data_received_def = {
      "data_received", fast_callback1<HttpProtocol, &HttpProtocol::data_received>, METH_O,
      "Bytes read from the connection."};
  static PyMethodDef receive_def = {"receive", fast_method0<HttpCycle, &HttpCycle::receive>,
                                    METH_NOARGS, "The next ASGI message from the client."};
  static PyMethodDef send_def = {"send", fast_method1<HttpCycle, &HttpCycle::send>, METH_O,
                                 "Sends an ASGI message to the client."};

  pb::class_<HttpProtocol>(m, "HttpProtocol")
      .def(pb::init<pb::object>())
      .def("connection_made", &HttpProtocol::connection_made)
      .def_property_readonly(
          "data_received", [](pb::handle self) { return bind_fast_method(data_received_def, self); })
      .def("eof_received", &HttpProtocol::eof_received)
      .def("connection_lost", &HttpProtocol::connection_lost)
      .def("pause_writing", &HttpProtocol::pause_writing)
      .def("resume_writing", &HttpProtocol::resume_writing)
      .def("shutdown", &HttpProtocol::shutdown)
      .def("abort", &HttpProtocol::abort);

  m.def("parse_request_to_scope", &parse_request_to_scope, pb::arg("data"),
        pb::arg("parser") = "pico", "Parses one request head into an ASGI scope (bench/micro).");
  m.def("parse_heads", &parse_heads, pb::arg("data"), pb::arg("backend"), pb::arg("times"),
        "Parses one request head `times` times with 'pico-portable', 'pico-sse42' or 'llhttp'; "
        "returns its header count (bench/micro).");

  register_websocket(m);
  register_http2(m);
  register_http3(m);
  register_build_info(m);
  register_hpack_hooks(m);
  register_metrics(m);

  pb::class_<HttpCycle>(m, "HttpCycle")
      .def_property_readonly("receive",
                             [](pb::handle self) { return bind_fast_method(receive_def, self); })
      .def_property_readonly("send",
                             [](pb::handle self) { return bind_fast_method(send_def, self); })
      .def("app_returned", &HttpCycle::app_returned)
      .def("app_failed", &HttpCycle::app_failed)
      .def("app_returned_value", &HttpCycle::app_returned_value);
}
