// WsSession: the ASGI websocket protocol (scope type "websocket") over the core's codec. Bytes
// go through WsReader once; messages become Python objects once; send() serialises with
// WsWriter into one bytes object per frame.
#include "websocket.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "awaitables.hpp"
#include "names.hpp"
#include "protocol.hpp"
#include "pyutil.hpp"
#include "scope.hpp"

namespace ruvicorn::py {

namespace {

// ruvicorn._core.ClientDisconnected (an OSError, like uvicorn's): send() to a client that is gone.
PyObject* client_disconnected = nullptr;

const WsOptions& options_of(const HttpContext& ctx) {
  static const WsOptions defaults;
  if (!ctx.ws_options || ctx.ws_options.is_none()) return defaults;
  return *ctx.ws_options.cast<WsOptions*>();
}

std::string_view str_view(PyObject* s) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == nullptr) throw pb::error_already_set();
  return {p, static_cast<std::size_t>(n)};
}

// {"type": type} plus up to two more items; the values are borrowed.
pb::object message(PyObject* type, PyObject* k1 = nullptr, PyObject* v1 = nullptr,
                   PyObject* k2 = nullptr, PyObject* v2 = nullptr) {
  PyObject* msg = _PyDict_NewPresized(3);
  if (msg == nullptr) throw pb::error_already_set();
  pb::object owner = pb::reinterpret_steal<pb::object>(msg);
  if (PyDict_SetItem(msg, names.type, type) < 0 ||
      (k1 != nullptr && PyDict_SetItem(msg, k1, v1) < 0) ||
      (k2 != nullptr && PyDict_SetItem(msg, k2, v2) < 0)) {
    throw pb::error_already_set();
  }
  return owner;
}

pb::object ready_object(const pb::object& value) {
  PyObject* r = ready(value.ptr());
  if (r == nullptr) throw pb::error_already_set();
  return pb::reinterpret_steal<pb::object>(r);
}

pb::object ready_nothing() { return pb::reinterpret_steal<pb::object>(ready_none()); }

bool future_done(const pb::object& future) {
  PyObject* r = PyObject_CallMethodNoArgs(future.ptr(), names.done);
  if (r == nullptr) throw pb::error_already_set();
  const bool done = r == Py_True;
  Py_DECREF(r);
  return done;
}

void set_result(const pb::object& future, const pb::object& value) {
  PyObject* r = PyObject_CallMethodOneArg(future.ptr(), names.set_result, value.ptr());
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}

// An HTTP answer to a bad upgrade request: 400, or 426 naming the version we speak.
void send_upgrade_error(HttpProtocol& protocol, int http_minor, const HttpError& error) {
  if (error.status != 426) {
    protocol.send_error_response(error);
    return;
  }
  std::string body(status_reason(426));
  body += ": ";
  body += error.reason;
  http1::ResponseWriter& w = protocol.writer();
  std::string& out = protocol.out();
  out.clear();
  w.reset();
  w.begin(http1::ResponseContext{http_minor, false, false}, 426);
  w.header(kWsVersionHeaderName, kWsVersionHeaderValue);
  w.header("content-type", "text/plain; charset=utf-8");
  w.header("content-length", std::to_string(body.size()));
  w.end_head(out);
  w.body(body, false, out);
  w.reset();
  protocol.flush();
  protocol.close_transport();
}

}  // namespace

// --- HttpProtocol's side of the upgrade ----------------------------------------------------------

void HttpProtocol::start_websocket(const http1::Request& request) {
  const WsOptions& options = options_of(*ctx_);
  WsUpgrade upgrade;
  HttpError error = ws_check_upgrade(request.head, options.deflate, upgrade);
  // A body on the upgrade request would be mistaken for frames.
  if (!error && (request.framing == http1::BodyFraming::kChunked ||
                 (request.framing == http1::BodyFraming::kLength && request.content_length > 0))) {
    error = HttpError{400, "WebSocket upgrade request with a body", true};
  }
  if (error) {
    send_upgrade_error(*this, request.head.http_minor, error);
    return;
  }
  PyObject* scope = build_scope(*this, request, true);
  if (scope == nullptr) throw pb::error_already_set();
  pb::object scope_obj = pb::reinterpret_steal<pb::object>(scope);
  // From here the bytes are frames: the HTTP parser stops; what it already holds moves over.
  conn_.upgrade();
  std::string early = conn_.take_unparsed();
  auto session = std::make_unique<WsSession>(*this, upgrade, request.head.http_minor, options,
                                             scope_obj);
  ws_ = session.get();
  ws_obj_ = pb::cast(std::move(session));
  if (!early.empty()) ws_->feed(early);
  pb::object coro = ctx_->run_websocket(ctx_->app, scope_obj, ws_obj_);
  // --reset-contextvars: the app starts from an empty context, as for HTTP requests.
  pb::object task =
      ctx_->reset_contextvars
          ? ctx_->loop.attr(names.create_task)(
                coro, pb::arg("context") = pb::module_::import("contextvars").attr("Context")())
          : ctx_->loop.attr(names.create_task)(coro);
  ws_->task = task;
  if (PySet_Add(ctx_->tasks.ptr(), task.ptr()) < 0) throw pb::error_already_set();
}

// --- WsSession -----------------------------------------------------------------------------------

WsSession::WsSession(HttpProtocol& protocol, const WsUpgrade& upgrade, int http_minor,
                     const WsOptions& options, pb::object scope_obj)
    : scope(std::move(scope_obj)),
      protocol_(&protocol),
      protocol_obj_(protocol.self_handle()),
      options_(options),
      upgrade_(upgrade),
      http_minor_(http_minor),
      max_queue_(std::max<std::size_t>(1, protocol.ctx().limits.ws_max_queue)) {
  // Views into the request buffer die with on_request; only the accept value and the negotiated
  // extension are needed later.
  upgrade_.key = {};
  upgrade_.subprotocols.clear();
}

WsSession::~WsSession() {
  if (timer_ && !timer_.is_none()) {
    PyObject* r = PyObject_CallMethodNoArgs(timer_.ptr(), names.cancel);
    if (r == nullptr) PyErr_Clear();
    Py_XDECREF(r);
  }
}

bool WsSession::transport_gone() const {
  return transport_closing_ || protocol_->closed();
}

void WsSession::log_exception(const char* where) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  try {
    pb::object exc = pb::reinterpret_borrow<pb::object>(value ? value : Py_None);
    protocol_->ctx().logger.attr("error")(std::string("ruvicorn: internal error in ") + where,
                                          pb::arg("exc_info") = exc);
  } catch (...) {
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

// --- receive() -----------------------------------------------------------------------------------

pb::object WsSession::receive() {
  if (!connect_delivered_) {
    connect_delivered_ = true;
    return ready_object(message(names.websocket_connect));
  }
  if (!queue_.empty() || disconnected_) return ready_object(take_message());
  if (receive_waiter_ && !future_done(receive_waiter_)) {
    raise(PyExc_RuntimeError, "receive() called while another receive() is pending");
  }
  flush_held();  // the app waits for the peer, who waits for these
  receive_waiter_ = protocol_->make_future();
  return receive_waiter_;
}

pb::object WsSession::take_message() {
  if (!queue_.empty()) {
    pb::object msg = std::move(queue_.front());
    queue_.pop_front();
    maybe_resume_reading();
    return msg;
  }
  {
    PyObject* code = PyLong_FromLong(disconnect_code_);
    PyObject* reason = PyUnicode_DecodeUTF8(disconnect_reason_.data(),
                                            static_cast<Py_ssize_t>(disconnect_reason_.size()),
                                            "replace");
    pb::object c = pb::reinterpret_steal<pb::object>(code);
    pb::object r = pb::reinterpret_steal<pb::object>(reason);
    if (code == nullptr || reason == nullptr) throw pb::error_already_set();
    return message(names.websocket_disconnect, names.code, code, names.reason, reason);
  }
}

void WsSession::deliver() {
  if (!receive_waiter_ || (queue_.empty() && !disconnected_)) return;
  pb::object waiter = std::move(receive_waiter_);
  receive_waiter_ = pb::object();
  if (future_done(waiter)) return;  // cancelled by the app: the message stays queued
  set_result(waiter, take_message());
}

void WsSession::push(pb::object msg) {
  queue_.push_back(std::move(msg));
  deliver();
  if (queue_.size() >= max_queue_) pause_reading();
}

void WsSession::pause_reading() {
  if (protocol_->reading_paused_ || transport_gone() || !protocol_->pause_reading_) return;
  protocol_->reading_paused_ = true;
  protocol_->pause_reading_();
}

void WsSession::maybe_resume_reading() {
  if (phase_ == Phase::kHandshake || phase_ == Phase::kResponse) return;  // early bytes wait
  if (queue_.size() > max_queue_ / 2) return;
  feed_unread();  // may fill the queue again
  if (unread_pos_ < unread_.size() || !protocol_->reading_paused_ || transport_gone() ||
      !protocol_->resume_reading_) {
    return;
  }
  protocol_->reading_paused_ = false;
  protocol_->resume_reading_();
}

void WsSession::disconnect(int code, std::string_view reason) {
  if (disconnected_) return;
  disconnected_ = true;
  disconnect_code_ = code;
  disconnect_reason_.assign(reason.data(), reason.size());
  deliver();
}

// --- bytes in ------------------------------------------------------------------------------------

void WsSession::feed(std::string_view data) {
  try {
    if (phase_ == Phase::kHandshake) {
      // RFC 6455 4.1: a client waits for the 101, but a hasty one is not punished; its bytes are
      // read as frames once the app accepts (bounded: reading pauses meanwhile).
      unread_.append(data.data(), data.size());
      if (unread_.size() > protocol_->ctx().limits.high_water) pause_reading();
      return;
    }
    if (!reader_ || transport_gone()) return;
    if (unread_pos_ < unread_.size()) {  // reading was paused; a read already under way lands here
      unread_.append(data.data(), data.size());
      return;
    }
    const std::size_t took = read_frames(data);
    if (took < data.size()) {
      unread_.assign(data.data() + took, data.size() - took);
      unread_pos_ = 0;
      pause_reading();
    }
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket data_received");
    close_transport();
  }
}

std::size_t WsSession::read_frames(std::string_view data) {
  struct Feeding {  // feeding_ is true exactly while the reader runs, however it leaves
    bool& flag;
    explicit Feeding(bool& f) : flag(f) { flag = true; }
    ~Feeding() { flag = false; }
  } feeding(feeding_);
  return reader_->feed(data, *this);
}

void WsSession::feed_unread() {
  if (feeding_ || !reader_ || transport_gone() || unread_pos_ >= unread_.size()) return;
  const std::string_view rest = std::string_view(unread_).substr(unread_pos_);
  unread_pos_ += read_frames(rest);
  if (unread_pos_ >= unread_.size()) {
    std::string().swap(unread_);
    unread_pos_ = 0;
  } else {
    pause_reading();
  }
}

void WsSession::on_message(WsOpcode opcode, std::string_view payload) {
  if (close_sent_ || transport_gone()) return;  // after our close frame data is discarded
  try {
    PyObject* data;
    PyObject* key;
    if (opcode == WsOpcode::kText) {
      data = PyUnicode_DecodeUTF8(payload.data(), static_cast<Py_ssize_t>(payload.size()), nullptr);
      key = names.text;
    } else {
      data = PyBytes_FromStringAndSize(payload.data(), static_cast<Py_ssize_t>(payload.size()));
      key = names.bytes;
    }
    if (data == nullptr) throw pb::error_already_set();
    pb::object owner = pb::reinterpret_steal<pb::object>(data);
    push(message(names.websocket_receive, key, data));
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket message");
    close_transport();
  }
}

void WsSession::on_ping(std::string_view payload) {
  if (close_sent_ || transport_gone()) return;
  try {
    write_frame(writer_->prepare_pong(payload));
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket pong");
    close_transport();
  }
}

void WsSession::on_pong(std::string_view) {
  if (pong_deadline_ == 0) return;  // unsolicited pong (RFC 6455 5.5.3): nothing to do
  pong_deadline_ = 0;
  try {
    schedule();
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket pong");
  }
}

void WsSession::on_close(int code, std::string_view reason) {
  close_received_ = true;
  try {
    if (!close_sent_ && !transport_gone()) {
      // 5.5.1: echo the peer's code; then the server closes the TCP connection first (7.1.1).
      write_frame(writer_->prepare_close(code == WsClose::kNoStatus ? 0 : code));
      close_sent_ = true;
    }
    disconnect(code, reason);
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket close");
  }
  close_transport();
}

void WsSession::on_error(const WsError& error) {
  try {
    fail(error.code, error.reason);
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket protocol error");
    close_transport();
  }
}

// --- bytes out -----------------------------------------------------------------------------------

namespace {
constexpr std::size_t kHoldLimit = 64 * 1024;
}  // namespace

void WsSession::write_data_frame(const WsFrameOut& frame) {
  if (transport_gone()) return;
  std::string& out = protocol_->out();
  if (queue_.empty() || out.size() + frame.size() > kHoldLimit) {
    write_frame(frame);
    return;
  }
  append_frame(out, frame);
  protocol_->hold_output();  // written by the end of this loop iteration at the latest
}

void WsSession::append_frame(std::string& out, const WsFrameOut& frame) {
  out.append(reinterpret_cast<const char*>(frame.header), frame.header_size);
  out.append(frame.payload.data(), frame.payload.size());
}

void WsSession::flush_held() {
  if (transport_gone()) {
    protocol_->out().clear();
    return;
  }
  protocol_->flush();
}

void WsSession::write_frame(const WsFrameOut& frame) {
  if (transport_gone()) return;
  if (!protocol_->out().empty()) {  // one write, in order, for what was held and this frame
    append_frame(protocol_->out(), frame);
    flush_held();
    return;
  }
  PyObject* bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(frame.size()));
  if (bytes == nullptr) throw pb::error_already_set();
  char* p = PyBytes_AS_STRING(bytes);
  std::memcpy(p, frame.header, frame.header_size);
  if (!frame.payload.empty()) {
    std::memcpy(p + frame.header_size, frame.payload.data(), frame.payload.size());
  }
  pb::object owner = pb::reinterpret_steal<pb::object>(bytes);
  protocol_->write_object(bytes);
}

pb::object WsSession::after_write() {
  if (protocol_->writing_paused() && !protocol_->closed()) {
    // pause_writing() means stop: send() waits until the transport drains.
    if (!protocol_->drain_waiter_) protocol_->drain_waiter_ = protocol_->make_future();
    return protocol_->drain_waiter_;
  }
  return ready_nothing();
}

void WsSession::start_close(int code, std::string_view reason) {
  if (close_sent_ || transport_gone()) return;
  write_frame(writer_->prepare_close(code, reason));
  close_sent_ = true;
  if (close_received_) {
    close_transport();
    return;
  }
  close_deadline_ = monotonic_now() + options_.close_timeout;
  schedule();
}

void WsSession::fail(int code, std::string_view reason) {
  if (!close_sent_ && writer_ && !transport_gone()) {
    write_frame(writer_->prepare_close(code, reason));
    close_sent_ = true;
  }
  disconnect(code, reason);
  close_transport();
}

void WsSession::reject(int status, std::string_view reason) {
  phase_ = Phase::kDone;
  if (transport_gone()) return;
  std::string& out = protocol_->out();
  out.clear();
  protocol_->writer().reset();
  protocol_->writer().error_response(HttpError{status, reason, true}, out);
  protocol_->flush();
  close_transport();
}

void WsSession::close_transport() {
  if (transport_closing_) return;
  close_deadline_ = pong_deadline_ = next_ping_ = 0;
  try {
    flush_held();
    transport_closing_ = true;
    schedule();  // cancels the timer
    protocol_->close_transport();
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket close");
  }
}

void WsSession::connection_lost() {
  transport_closing_ = true;
  std::string().swap(unread_);
  unread_pos_ = 0;
  protocol_->out().clear();
  close_deadline_ = pong_deadline_ = next_ping_ = 0;
  try {
    schedule();
    disconnect(WsClose::kAbnormal, {});
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket connection_lost");
  }
}

void WsSession::shutdown() {
  if (transport_gone()) return;
  try {
    if (phase_ == Phase::kHandshake) {
      reject(500, "the server is shutting down");
    } else if (phase_ == Phase::kOpen && !close_sent_) {
      disconnect(WsClose::kServiceRestart, {});
      start_close(WsClose::kServiceRestart, {});
    }
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket shutdown");
    close_transport();
  }
}

// --- send() --------------------------------------------------------------------------------------

pb::object WsSession::send(pb::object message_obj) {
  PyObject* msg = message_obj.ptr();
  if (!PyDict_Check(msg)) raise(PyExc_TypeError, "ASGI message must be a dict");
  PyObject* type = dict_get(msg, names.type);
  if (type == nullptr) raise(PyExc_KeyError, "ASGI message has no 'type'");
  switch (phase_) {
    case Phase::kHandshake:
      if (str_is(type, names.websocket_accept)) return send_accept(msg);
      if (str_is(type, names.websocket_close)) {
        if (options_.log && !options_.log.is_none()) options_.log(scope, "403");
        reject(403, {});
        return ready_nothing();
      }
      if (str_is(type, names.websocket_http_response_start)) return send_reject_start(msg);
      raise(PyExc_RuntimeError,
            "Expected ASGI message 'websocket.accept', 'websocket.close', or "
            "'websocket.http.response.start' but got '" + type_name(msg) + "'.");
    case Phase::kResponse:
      if (str_is(type, names.websocket_http_response_body)) return send_reject_body(msg);
      raise(PyExc_RuntimeError, "Expected ASGI message 'websocket.http.response.body' but got '" +
                                    type_name(msg) + "'.");
    case Phase::kOpen:
      if (str_is(type, names.websocket_send)) return send_data(msg);
      if (str_is(type, names.websocket_close)) return send_close(msg);
      raise(PyExc_RuntimeError, "Expected ASGI message 'websocket.send' or 'websocket.close', but "
                                "got '" + type_name(msg) + "'.");
    case Phase::kDone:
      break;
  }
  raise(PyExc_RuntimeError, "Unexpected ASGI message '" + type_name(msg) +
                                "', after sending 'websocket.close' or response already "
                                "completed.");
}

pb::object WsSession::send_accept(PyObject* msg) {
  if (transport_gone()) raise(client_disconnected, "the client disconnected before accept");
  std::string_view subprotocol;
  PyObject* sub = dict_get(msg, names.subprotocol);
  if (sub != nullptr && sub != Py_None) {
    if (!PyUnicode_Check(sub)) {
      raise(PyExc_TypeError, "websocket.accept 'subprotocol' must be a str");
    }
    subprotocol = str_view(sub);
  }
  // The app's headers first (validated), so that its own Date or Server replaces ours.
  std::string extra;
  bool app_date = false, app_server = false;
  for_each_header(dict_get(msg, names.headers),
                  "websocket.accept 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    // The extension changes the framing; only the server may negotiate it.
                    if (iequals(name, "sec-websocket-extensions")) {
                      raise(PyExc_RuntimeError,
                            "websocket.accept headers may not set Sec-WebSocket-Extensions");
                    }
                    app_date = app_date || iequals(name, "date");
                    app_server = app_server || iequals(name, "server");
                    if (ws_append_header(name, value, extra)) {
                      raise(PyExc_RuntimeError, "invalid header in websocket.accept");
                    }
                  });
  std::string& out = protocol_->out();
  out.clear();
  if (ws_begin_accept(upgrade_, subprotocol, out)) {
    out.clear();
    raise(PyExc_RuntimeError, "invalid subprotocol in websocket.accept");
  }
  protocol_->writer().append_common_headers(app_server, app_date, out);
  out += extra;
  ws_end_head(out);
  protocol_->flush();

  phase_ = Phase::kOpen;
  reader_ = std::make_unique<WsReader>(protocol_->ctx().limits, upgrade_.deflate, WsRole::kServer);
  writer_ = std::make_unique<WsWriter>(upgrade_.deflate, WsRole::kServer);
  if (options_.log && !options_.log.is_none()) options_.log(scope, "[accepted]");
  if (options_.ping_interval > 0) {
    next_ping_ = monotonic_now() + options_.ping_interval;
    schedule();
  }
  maybe_resume_reading();  // reads the frames that came before the accept
  return after_write();
}

pb::object WsSession::send_reject_start(PyObject* msg) {
  if (transport_gone()) raise(client_disconnected, "the client disconnected before the response");
  PyObject* status_obj = dict_get(msg, names.status);
  if (status_obj == nullptr || !PyLong_Check(status_obj)) {
    raise(PyExc_TypeError, "websocket.http.response.start 'status' must be an int");
  }
  const long status = PyLong_AsLong(status_obj);
  if (status < 100 || status > 999) {
    raise(PyExc_ValueError, "invalid HTTP status code " + std::to_string(status));
  }
  http1::ResponseWriter& w = protocol_->writer();
  w.reset();
  w.begin(http1::ResponseContext{http_minor_, false, false}, static_cast<int>(status));
  try {
    for_each_header(dict_get(msg, names.headers),
                    "websocket.http.response.start 'headers'",
                    [&](std::string_view name, std::string_view value) {
                      if (w.header(name, value)) {
                        raise(PyExc_RuntimeError, "invalid response header");
                      }
                    });
  } catch (...) {
    w.reset();
    throw;
  }
  std::string& out = protocol_->out();
  out.clear();
  if (HttpError err = w.end_head(out)) {
    w.reset();
    out.clear();
    raise(PyExc_RuntimeError, "invalid response: " + std::string(err.reason));
  }
  phase_ = Phase::kResponse;
  protocol_->hold_output();  // with the first body bytes, or this iteration if the app suspends
  return ready_nothing();
}

pb::object WsSession::send_reject_body(PyObject* msg) {
  PyObject* body = dict_get(msg, names.body);
  PyObject* more_obj = dict_get(msg, names.more_body);
  const bool more = more_obj != nullptr && PyObject_IsTrue(more_obj) == 1;
  std::string_view data;
  std::unique_ptr<BytesView> view;
  if (body != nullptr && body != Py_None) {
    view = std::make_unique<BytesView>(body);
    if (!view->ok()) raise(PyExc_TypeError, "websocket.http.response.body 'body' must be bytes");
    data = view->data();
  }
  http1::ResponseWriter& w = protocol_->writer();
  if (HttpError err = w.body(data, more, protocol_->out())) {
    protocol_->out().clear();
    w.reset();
    phase_ = Phase::kDone;
    close_transport();
    raise(PyExc_RuntimeError, std::string(err.reason));
  }
  protocol_->flush();
  if (!more) {
    w.reset();
    phase_ = Phase::kDone;
    close_transport();
  }
  return after_write();
}

pb::object WsSession::send_data(PyObject* msg) {
  PyObject* text = dict_get(msg, names.text);
  if (text != nullptr && text != Py_None) {
    if (!PyUnicode_Check(text)) raise(PyExc_TypeError, "websocket.send 'text' must be a str");
    if (disconnected_ || transport_gone()) raise(client_disconnected, "the client disconnected");
    write_data_frame(writer_->prepare(WsOpcode::kText, str_view(text)));
    return after_write();
  }
  PyObject* bytes = dict_get(msg, names.bytes);
  if (bytes == nullptr || bytes == Py_None) {
    raise(PyExc_TypeError, "websocket.send needs 'bytes' or 'text'");
  }
  BytesView view(bytes);
  if (!view.ok()) raise(PyExc_TypeError, "websocket.send 'bytes' must be bytes");
  if (disconnected_ || transport_gone()) raise(client_disconnected, "the client disconnected");
  write_data_frame(writer_->prepare(WsOpcode::kBinary, view.data()));
  return after_write();
}

pb::object WsSession::send_close(PyObject* msg) {
  int code = WsClose::kNormal;
  PyObject* code_obj = dict_get(msg, names.code);
  if (code_obj != nullptr && code_obj != Py_None) {
    if (!PyLong_Check(code_obj)) raise(PyExc_TypeError, "websocket.close 'code' must be an int");
    const long c = PyLong_AsLong(code_obj);
    if (c == -1 && PyErr_Occurred()) throw pb::error_already_set();
    if (!ws_close_code_valid(static_cast<int>(c)) || c > 4999) {
      raise(PyExc_ValueError, "invalid WebSocket close code " + std::to_string(c));
    }
    code = static_cast<int>(c);
  }
  std::string_view reason;
  PyObject* reason_obj = dict_get(msg, names.reason);
  if (reason_obj != nullptr && reason_obj != Py_None) {
    if (!PyUnicode_Check(reason_obj)) {
      raise(PyExc_TypeError, "websocket.close 'reason' must be a str");
    }
    reason = str_view(reason_obj);
  }
  phase_ = Phase::kDone;
  if (disconnected_ || transport_gone()) return ready_nothing();  // already closed: nothing to do
  start_close(code, reason);
  return after_write();
}

// --- the app's end -------------------------------------------------------------------------------

void WsSession::app_returned() {
  try {
    switch (phase_) {
      case Phase::kHandshake:
        if (!transport_gone()) {
          protocol_->ctx().logger.attr("error")(
              "ASGI callable returned without sending handshake.");
          reject(500, {});
        }
        break;
      case Phase::kResponse:
        protocol_->ctx().logger.attr("error")(
            "ASGI callable returned without completing response.");
        close_transport();
        break;
      case Phase::kOpen:
        start_close(WsClose::kNormal, {});
        break;
      case Phase::kDone:
        break;
    }
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket app_returned");
    close_transport();
  }
  phase_ = Phase::kDone;
  finished();
}

void WsSession::app_failed() {
  try {
    switch (phase_) {
      case Phase::kHandshake:
        reject(500, {});
        break;
      case Phase::kResponse:
        close_transport();
        break;
      case Phase::kOpen:
        start_close(WsClose::kInternalError, {});
        break;
      case Phase::kDone:
        break;
    }
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket app_failed");
    close_transport();
  }
  phase_ = Phase::kDone;
  finished();
}

void WsSession::finished() {
  if (task) {
    if (PySet_Discard(protocol_->ctx().tasks.ptr(), task.ptr()) < 0) PyErr_Clear();
    task = pb::object();
  }
  receive_waiter_ = pb::object();
}

// --- timer ---------------------------------------------------------------------------------------

void WsSession::schedule() {
  double next = 0;
  auto consider = [&next](double t) {
    if (t > 0 && (next == 0 || t < next)) next = t;
  };
  consider(close_deadline_);
  if (phase_ == Phase::kOpen && !close_sent_) {
    consider(pong_deadline_ > 0 ? pong_deadline_ : next_ping_);
  }
  if (timer_ && (next == 0 || timer_at_ > next)) {
    pb::object timer = std::move(timer_);
    timer_ = pb::object();
    timer_at_ = 0;
    timer.attr(names.cancel)();
  }
  if (next == 0 || timer_) return;  // nothing due, or the pending tick comes first and reschedules
  pb::object self = pb::cast(this, pb::return_value_policy::reference);
  const double delay = std::max(0.0, next - monotonic_now());
  timer_ = protocol_->ctx().loop.attr(names.call_later)(delay, self.attr("_tick"));
  timer_at_ = next;
}

void WsSession::tick() {
  timer_ = pb::object();
  timer_at_ = 0;
  if (transport_gone()) return;
  const double now = monotonic_now();
  try {
    if (close_deadline_ > 0 && now >= close_deadline_) {
      close_transport();  // the peer never answered our close frame
      return;
    }
    if (phase_ == Phase::kOpen && !close_sent_) {
      if (pong_deadline_ > 0 && now >= pong_deadline_) {
        fail(WsClose::kInternalError, "keepalive ping timeout");
        return;
      }
      if (pong_deadline_ == 0 && next_ping_ > 0 && now >= next_ping_) {
        write_frame(writer_->prepare_ping());
        next_ping_ = now + options_.ping_interval;
        if (options_.ping_timeout > 0) pong_deadline_ = now + options_.ping_timeout;
      }
    }
    schedule();
  } catch (pb::error_already_set& e) {
    e.restore();
    log_exception("websocket timer");
    close_transport();
  }
}

// --- registration --------------------------------------------------------------------------------

namespace {

// Micro-benchmark hooks (bench/micro/test_websocket.py), METH_FASTCALL so the call costs little
// beyond the work.
PyObject* py_ws_unmask(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) ||
      PyBytes_GET_SIZE(args[1]) != 4) {
    PyErr_SetString(PyExc_TypeError, "ws_unmask(data: bytes, mask: bytes of length 4)");
    return nullptr;
  }
  const Py_ssize_t n = PyBytes_GET_SIZE(args[0]);
  PyObject* out = PyBytes_FromStringAndSize(nullptr, n);
  if (out == nullptr) return nullptr;
  std::uint8_t key[4];
  std::memcpy(key, PyBytes_AS_STRING(args[1]), 4);
  ws_apply_mask(reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(args[0])),
                static_cast<std::size_t>(n), key,
                reinterpret_cast<std::uint8_t*>(PyBytes_AS_STRING(out)));
  return out;
}

PyObject* py_utf8_valid(PyObject*, PyObject* arg) {
  if (!PyBytes_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "utf8_valid(data: bytes)");
    return nullptr;
  }
  const bool ok = utf8_valid(
      std::string_view(PyBytes_AS_STRING(arg), static_cast<std::size_t>(PyBytes_GET_SIZE(arg))));
  return PyBool_FromLong(ok ? 1 : 0);
}

PyMethodDef hook_methods[] = {
    {"ws_unmask", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_ws_unmask)),
     METH_FASTCALL, "XOR data with a 4-byte WebSocket mask (RFC 6455 5.3)."},
    {"utf8_valid", py_utf8_valid, METH_O, "Whether data is valid UTF-8 (RFC 3629)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

void register_websocket(pb::module_& m) {
  client_disconnected =
      PyErr_NewException("ruvicorn._core.ClientDisconnected", PyExc_OSError, nullptr);
  if (client_disconnected == nullptr) throw pb::error_already_set();
  m.attr("ClientDisconnected") = pb::reinterpret_borrow<pb::object>(client_disconnected);
  if (PyModule_AddFunctions(m.ptr(), hook_methods) < 0) throw pb::error_already_set();

  pb::class_<WsOptions>(m, "WsOptions")
      .def(pb::init<>())
      .def_property(
          "per_message_deflate", [](const WsOptions& o) { return o.deflate.enabled; },
          [](WsOptions& o, bool v) { o.deflate.enabled = v; })
      .def_readwrite("ping_interval", &WsOptions::ping_interval)
      .def_readwrite("ping_timeout", &WsOptions::ping_timeout)
      .def_readwrite("close_timeout", &WsOptions::close_timeout)
      .def_readwrite("log", &WsOptions::log);

  pb::class_<WsSession>(m, "WsSession")
      .def("receive", &WsSession::receive)
      .def("send", &WsSession::send)
      .def("app_returned", &WsSession::app_returned)
      .def("app_failed", &WsSession::app_failed)
      .def("_tick", &WsSession::tick);
}

}  // namespace ruvicorn::py
