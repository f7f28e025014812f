// Entry points for bench/micro: the request-to-scope path without sockets or an event loop.
#include <pybind11/pybind11.h>

#include "context.hpp"
#include "ruvicorn/parser.hpp"
#include "names.hpp"
#include "scope.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace {

// Runs the core's Connection over `data` and builds the scope of the first request.
class ScopeProbe final : public http1::ConnectionHandler {
 public:
  ScopeProbe(HttpContext& ctx, const PeerInfo& peer) : ctx_(ctx), peer_(peer) {}
  void on_request(const http1::Request& request) override {
    scope_ = pb::reinterpret_steal<pb::object>(
        build_scope(ctx_, peer_, scope_request(request), false));
  }
  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_error(const HttpError& error) override { error_ = error; }

  HttpContext& ctx_;
  const PeerInfo& peer_;
  pb::object scope_;
  HttpError error_;
};

}  // namespace

namespace {

// One protocol and connection per parser kind, reused across calls so the measurement is the
// per-request path. Deliberately never destroyed: they hold Python objects, and static
// destructors would run after the interpreter is gone.
struct Probe {
  explicit Probe(http1::ParserKind kind) {
    HttpContext ctx;
    ctx.parser = kind;
    ctx.root_path = pb::str("");
    ctx.lifespan_state = pb::none();
    context = pb::cast(std::move(ctx));
    peer.client = pb::make_tuple("127.0.0.1", 50000);
    peer.server = pb::make_tuple("127.0.0.1", 8000);
    peer.scheme = pb::reinterpret_borrow<pb::object>(names.scheme_http);
    connection = std::make_unique<http1::Connection>(context.cast<HttpContext*>()->limits, kind);
  }
  pb::object context;
  PeerInfo peer;
  std::unique_ptr<http1::Connection> connection;
};

}  // namespace

pb::object parse_request_to_scope(pb::bytes data, const std::string& parser) {
  http1::ParserKind kind;
  if (!http1::parser_kind_from_name(parser, kind)) throw pb::value_error("unknown parser " + parser);
  static Probe* probes[2] = {nullptr, nullptr};
  Probe*& probe = probes[kind == http1::ParserKind::kLlhttp ? 1 : 0];
  if (probe == nullptr) probe = std::make_unique<Probe>(kind).release();
  ScopeProbe handler(*probe->context.cast<HttpContext*>(), probe->peer);
  probe->connection->feed(std::string_view(data), handler);
  if (!handler.error_) probe->connection->response_done(true, handler);
  if (handler.error_ || probe->connection->state() == http1::Connection::State::kClosed) {
    probe->connection = std::make_unique<http1::Connection>(probe->context.cast<HttpContext*>()->limits, kind);
  }
  if (PyErr_Occurred()) throw pb::error_already_set();
  if (handler.error_) throw pb::value_error(std::string(handler.error_.reason));
  if (!handler.scope_) throw pb::value_error("incomplete request");
  return handler.scope_;
}

int parse_heads(pb::bytes data, const std::string& backend, int times) {
  // The head parser alone, `times` times (so the call's own cost is spread thin).
  Limits limits;
  std::unique_ptr<http1::HeadParser> parser;
  if (backend == "pico-portable") {
    parser = http1::make_pico_parser(limits, http1::PicoScan::kPortable);
  } else if (backend == "pico-sse42") {
    if (!http1::pico_sse42_available()) throw pb::value_error("SSE4.2 scan not available here");
    parser = http1::make_pico_parser(limits, http1::PicoScan::kSse42);
  } else if (backend == "llhttp") {
    parser = http1::make_parser(http1::ParserKind::kLlhttp, limits);
  } else {
    throw pb::value_error("unknown back end " + backend);
  }
  const std::string_view bytes(data);
  http1::RequestHead head;
  HttpError error;
  for (int i = 0; i < times; ++i) {
    if (parser->parse(bytes, head, error) != http1::ParseStatus::kComplete)
      throw pb::value_error("not one complete head");
  }
  return static_cast<int>(head.header_count);
}

}  // namespace ruvicorn::py
