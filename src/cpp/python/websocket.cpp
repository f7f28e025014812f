// WsSession: the ASGI websocket protocol (scope type "websocket") over the core's codec. Bytes
// go through WsReader once; messages become Python objects once; send() serialises with
// WsWriter into one bytes object per frame.
#include "websocket.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "awaitables.hpp"
#include "fast_method.hpp"
#include "names.hpp"
#include "sink.hpp"
#include "pyutil.hpp"
#include "scope.hpp"
#include "transport.hpp"

namespace ruvicorn::py {

namespace {

// ruvicorn._core.ClientDisconnected (an OSError, like uvicorn's): send() to a client that is gone.
PyObject* client_disconnected = nullptr;

}  // namespace

pb::object client_disconnected_error(HttpContext& ctx, const char* where) noexcept {
  PyObject* error = PyObject_CallFunction(client_disconnected, "s", "the client disconnected");
  if (error == nullptr) ctx.log_internal_error(where);
  return pb::reinterpret_steal<pb::object>(error);
}

namespace {

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

// A str from UTF-8 the core has checked (RFC 6455 8.1), without PyUnicode_DecodeUTF8 checking
// it again: the check told how many code points there are and how wide the widest is.
template <typename Char>
void decode_valid_utf8(const std::uint8_t* p, const std::uint8_t* end, Char* out) {
  while (p < end) {
    const std::uint32_t b = *p;
    if (b < 0x80) {
      *out++ = static_cast<Char>(b);
      ++p;
    } else if (b < 0xE0) {
      *out++ = static_cast<Char>(((b & 0x1F) << 6) | (p[1] & 0x3F));
      p += 2;
    } else if (b < 0xF0) {
      *out++ = static_cast<Char>(((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F));
      p += 3;
    } else {
      *out++ = static_cast<Char>(((b & 0x07) << 18) | ((p[1] & 0x3F) << 12) |
                                 ((p[2] & 0x3F) << 6) | (p[3] & 0x3F));
      p += 4;
    }
  }
}

PyObject* text_from_checked_utf8(std::string_view s, const Utf8Validator& check) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto* end = p + s.size();
  if (check.ascii()) {
    PyObject* str = PyUnicode_New(static_cast<Py_ssize_t>(s.size()), 0x7F);
    if (str != nullptr && !s.empty()) std::memcpy(PyUnicode_DATA(str), p, s.size());
    return str;
  }
  // The width names the widest code point's range, so the str is in CPython's canonical kind.
  const int width = check.width();
  const Py_UCS4 max_char = width == 1 ? 0xFF : width == 2 ? 0xFFFF : 0x10FFFF;
  PyObject* str = PyUnicode_New(static_cast<Py_ssize_t>(check.code_points()), max_char);
  if (str == nullptr) return nullptr;
  void* data = PyUnicode_DATA(str);
  if (width == 1) {
    decode_valid_utf8(p, end, static_cast<Py_UCS1*>(data));
  } else if (width == 2) {
    decode_valid_utf8(p, end, static_cast<Py_UCS2*>(data));
  } else {
    decode_valid_utf8(p, end, static_cast<Py_UCS4*>(data));
  }
  return str;
}

}  // namespace

// --- WsSession -----------------------------------------------------------------------------------

const WsOptions& ws_options_of(const HttpContext& ctx) {
  static const WsOptions defaults;
  if (!ctx.ws_options || ctx.ws_options.is_none()) return defaults;
  return *ctx.ws_options.cast<WsOptions*>();
}

WsSession::WsSession(WsChannel& channel, pb::object owner, const WsUpgrade& upgrade,
                     int http_minor, pb::object scope_obj)
    : scope(std::move(scope_obj)),
      channel_(&channel),
      owner_(std::move(owner)),
      options_(ws_options_of(channel.ctx())),
      upgrade_(upgrade),
      http_minor_(http_minor),
      max_queue_(std::max<std::size_t>(1, channel.ctx().limits.ws_max_queue)),
      max_queue_bytes_(std::max<std::size_t>(1, channel.ctx().limits.ws_max_queue_bytes)) {
  // Views into the request buffer die with on_request; only the accept value and the negotiated
  // extension are needed later.
  upgrade_.key = {};
  upgrade_.subprotocols.clear();
}

WsSession::~WsSession() {
  if (timer_ && !timer_.is_none() && !cancel_handle(timer_)) PyErr_Clear();
}

bool WsSession::transport_gone() const {
  return transport_closing_ || channel_->gone();
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
  // The app waits for the peer, who waits for what it sent: written at the end of this loop
  // iteration, with what the other sessions sent in it (see write_data_frame).
  if (!channel_->out().empty() && !transport_gone()) channel_->hold();
  receive_waiter_ = channel_->ctx().make_future();
  return receive_waiter_;
}

pb::object WsSession::take_message() {
  if (!queue_.empty()) {
    pb::object msg = std::move(queue_.front().message);
    queued_bytes_ -= queue_.front().bytes;
    queue_.pop_front();
    maybe_resume_reading();
    return msg;
  }
  PyObject* code = PyLong_FromLong(disconnect_code_);
  if (code == nullptr) throw pb::error_already_set();
  pb::object c = pb::reinterpret_steal<pb::object>(code);
  if (!disconnect_has_reason_) return message(names.websocket_disconnect, names.code, code);
  PyObject* reason = PyUnicode_DecodeUTF8(disconnect_reason_.data(),
                                          static_cast<Py_ssize_t>(disconnect_reason_.size()),
                                          "replace");
  if (reason == nullptr) throw pb::error_already_set();
  pb::object r = pb::reinterpret_steal<pb::object>(reason);
  return message(names.websocket_disconnect, names.code, code, names.reason, reason);
}

void WsSession::deliver() {
  if (!receive_waiter_ || (queue_.empty() && !disconnected_)) return;
  pb::object waiter = std::move(receive_waiter_);
  receive_waiter_ = pb::object();
  if (future_done(waiter)) return;  // cancelled by the app: the message stays queued
  set_result(waiter, take_message());
}

void WsSession::push(pb::object msg, std::size_t bytes) {
  queue_.push_back(Queued{std::move(msg), bytes});
  queued_bytes_ += bytes;
  deliver();
  if (paused()) pause_reading();  // the reader stops too: the rest of a read stays bytes
}

void WsSession::pause_reading() {
  if (!transport_gone()) channel_->pause_reading();
}

void WsSession::maybe_resume_reading() {
  if (phase_ == Phase::kHandshake || phase_ == Phase::kResponse) return;  // early bytes wait
  // Hysteresis: read again once half the room is free (by count and by bytes).
  if (queue_.size() > max_queue_ / 2 || queued_bytes_ > max_queue_bytes_ / 2) return;
  feed_unread();  // may fill the queue again
  if (unread_pos_ < unread_.size() || transport_gone()) return;
  channel_->resume_reading();
}

void WsSession::disconnect(int code) {
  if (disconnected_) return;
  disconnected_ = true;
  disconnect_code_ = code;
  deliver();
}

void WsSession::disconnect(int code, std::string_view reason) {
  if (disconnected_) return;
  disconnect_reason_.assign(reason.data(), reason.size());
  disconnect_has_reason_ = true;
  disconnect(code);
}

// --- bytes in ------------------------------------------------------------------------------------

template <class Fn>
void WsSession::or_close(const char* where, Fn&& fn) noexcept {
  if (!channel_->ctx().guard(where, std::forward<Fn>(fn))) close_transport();
}

void WsSession::feed(std::string_view data) {
  or_close("websocket data_received", [&] {
    if (phase_ == Phase::kHandshake) {
      // RFC 6455 4.1: a client waits for the 101, but a hasty one is not punished; its bytes are
      // read as frames once the app accepts (bounded: reading pauses meanwhile).
      unread_.append(data.data(), data.size());
      if (unread_.size() > channel_->ctx().limits.high_water) pause_reading();
      return;
    }
    if (!reader_ || transport_gone()) return;
    if (unread_pos_ < unread_.size()) {  // reading was paused; a read already under way lands here
      unread_.append(data.data(), data.size());
      return;
    }
    const std::size_t took = read_frames(data);
    channel_->consumed(took);
    if (took < data.size()) {
      unread_.assign(data.data() + took, data.size() - took);
      unread_pos_ = 0;
      pause_reading();
    }
  });
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
  const std::size_t took = read_frames(rest);
  unread_pos_ += took;
  channel_->consumed(took);
  if (unread_pos_ >= unread_.size()) {
    std::string().swap(unread_);
    unread_pos_ = 0;
  } else {
    pause_reading();
  }
}

void WsSession::on_message(WsOpcode opcode, std::string_view payload) {
  if (close_sent_ || transport_gone()) return;  // after our close frame data is discarded
  or_close("websocket message", [&] {
    PyObject* data;
    PyObject* key;
    if (opcode == WsOpcode::kText) {
      data = text_from_checked_utf8(payload, reader_->text_check());
      key = names.text;
    } else {
      data = PyBytes_FromStringAndSize(payload.data(), static_cast<Py_ssize_t>(payload.size()));
      key = names.bytes;
    }
    if (data == nullptr) throw pb::error_already_set();
    pb::object owner = pb::reinterpret_steal<pb::object>(data);
    push(message(names.websocket_receive, key, data), payload.size());
  });
}

void WsSession::on_ping(std::string_view payload) {
  if (close_sent_ || transport_gone()) return;
  or_close("websocket pong", [&] { write_frame(writer_->prepare_pong(payload)); });
}

void WsSession::on_pong(std::string_view) {
  if (pong_deadline_ == 0) return;  // unsolicited pong (RFC 6455 5.5.3): nothing to do
  pong_deadline_ = 0;
  channel_->ctx().guard("websocket pong", [&] { schedule(); });
}

void WsSession::on_close(int code, std::string_view reason) {
  close_received_ = true;
  channel_->ctx().guard("websocket close", [&] {
    if (!close_sent_ && !transport_gone()) {
      // 5.5.1: echo the peer's code; then the server closes the TCP connection first (7.1.1).
      write_frame(writer_->prepare_close(code == WsClose::kNoStatus ? 0 : code));
      close_sent_ = true;
    }
    disconnect(code, reason);
  });
  close_transport();
}

void WsSession::on_error(const WsError& error) {
  or_close("websocket protocol error", [&] { fail(error.code, error.reason); });
}

// --- bytes out -----------------------------------------------------------------------------------

void WsSession::write_data_frame(const WsFrameOut& frame) {
  if (transport_gone()) return;
  std::string& out = channel_->out();
  if (out.size() + frame.size() > kHoldOutput ||
      (out.empty() && queue_.empty() && frame.size() >= kHoldWhole)) {
    write_frame(frame);
    return;
  }
  // Held (bounded) to the end of this loop iteration: the frames this session and the others
  // send in one iteration go out back to back, and a peer waiting for them is woken once for
  // the burst rather than once per write (a wake-up cost more than the write on loopback).
  append_frame(out, frame);
  channel_->hold();
}

void WsSession::append_frame(std::string& out, const WsFrameOut& frame) {
  out.append(reinterpret_cast<const char*>(frame.header), frame.header_size);
  out.append(frame.payload.data(), frame.payload.size());
}

void WsSession::flush_held() {
  if (transport_gone()) {
    channel_->out().clear();
    return;
  }
  channel_->flush();
}

void WsSession::write_frame(const WsFrameOut& frame) {
  if (transport_gone()) return;
  if (!channel_->out().empty()) {  // one write, in order, for what was held and this frame
    append_frame(channel_->out(), frame);
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
  channel_->write(bytes);
}

pb::object WsSession::after_write() { return channel_->writable(); }

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
    disconnect(code, reason);
  } else {
    disconnect(code);
  }
  close_transport();
}

void WsSession::reject(int status, std::string_view reason) {
  phase_ = Phase::kDone;
  if (transport_gone()) return;
  channel_->out().clear();
  channel_->reject(HttpError{status, reason, true});
  transport_closing_ = true;
  schedule();  // cancels the timer
}

void WsSession::close_transport() noexcept {
  if (transport_closing_) return;
  close_deadline_ = pong_deadline_ = next_ping_ = 0;
  channel_->ctx().guard("websocket close", [&] {
    flush_held();  // what was sent before the close still goes out
  });
  transport_closing_ = true;
  channel_->ctx().guard("websocket close", [&] {
    schedule();  // nothing is due any more: cancels the timer
  });
  channel_->close();  // whatever failed above, the connection ends
}

void WsSession::drop() noexcept {
  // What was sent before still goes out (close_transport flushes it); no close frame follows.
  close_sent_ = true;
  close_transport();
}

void WsSession::connection_lost() {
  transport_closing_ = true;
  std::string().swap(unread_);
  unread_pos_ = 0;
  channel_->out().clear();
  close_deadline_ = pong_deadline_ = next_ping_ = 0;
  channel_->ctx().guard("websocket connection_lost", [&] {
    schedule();
    disconnect(WsClose::kAbnormal);
  });
}

void WsSession::shutdown() {
  if (transport_gone()) return;
  or_close("websocket shutdown", [&] {
    if (phase_ == Phase::kHandshake) {
      reject(500, "the server is shutting down");
    } else if (phase_ == Phase::kOpen && !close_sent_) {
      disconnect(WsClose::kServiceRestart);  // code only, as uvicorn
      start_close(WsClose::kServiceRestart, {});
    }
  });
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
      // A second accept or another message out of order: the app broke the protocol, and the
      // connection is dropped, as uvicorn does (not closed in good order with a code).
      drop();
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
  channel_->out().clear();
  channel_->accept(upgrade_, subprotocol, dict_get(msg, names.headers));

  phase_ = Phase::kOpen;
  reader_ = std::make_unique<WsReader>(channel_->ctx().limits, upgrade_.deflate, WsRole::kServer);
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
  if (status == -1 && PyErr_Occurred()) throw pb::error_already_set();
  if (status < 100 || status > 599) {
    // uvicorn's check and text; the app's exception then becomes a 500.
    raise(PyExc_RuntimeError,
          "Invalid HTTP status code '" + std::to_string(status) + "' in response.");
  }
  // The head waits for the first body message (a body sent whole then gets a Content-Length);
  // its fields are checked now, so that a bad one is the app's error here, with nothing sent.
  PyObject* headers = dict_get(msg, names.headers);
  for_each_header(headers, "websocket.http.response.start 'headers'",
                  [](std::string_view name, std::string_view value) {
                    if (!is_token(name) || !field_value_safe(value)) {
                      raise(PyExc_RuntimeError, "invalid response header: " + std::string(name));
                    }
                  });
  if (headers != nullptr && headers != Py_None) {
    PyObject* copy = PySequence_List(headers);  // the app may reuse its list
    if (copy == nullptr) throw pb::error_already_set();
    denial_headers_ = pb::reinterpret_steal<pb::object>(copy);
  }
  denial_status_ = static_cast<int>(status);
  phase_ = Phase::kResponse;
  // Written by the end of this loop iteration if no body message came by then (a body that
  // takes its time must not hold the head back).
  pb::object self = pb::cast(this, pb::return_value_policy::reference);
  if (!channel_->ctx().call_soon(self.attr("_denial_due").ptr(), "websocket denial")) {
    denial_due();  // refused (logged): the head goes out now, as is
  }
  return ready_nothing();
}

void WsSession::denial_due() noexcept {
  if (phase_ != Phase::kResponse || denial_ != nullptr || transport_gone()) return;
  or_close("websocket denial", [&] {
    start_denial(0, false);
    channel_->flush();
  });
}

void WsSession::start_denial(std::size_t body_size, bool whole) {
  pb::object headers = denial_headers_;
  bool framed = false;
  for_each_header(headers.ptr(), "websocket.http.response.start 'headers'",
                  [&](std::string_view name, std::string_view) {
                    framed = framed || iequals(name, "content-length") ||
                             iequals(name, "transfer-encoding");
                  });
  if (whole && !framed) {
    // As uvicorn's websockets implementation: Content-Length rather than chunked.
    if (!headers) headers = pb::reinterpret_steal<pb::object>(PyList_New(0));
    if (!headers) throw pb::error_already_set();
    pb::bytes value(std::to_string(body_size));
    pb::object field = pb::make_tuple(pb::bytes("content-length"), value);
    if (PyList_Append(headers.ptr(), field.ptr()) < 0) throw pb::error_already_set();
  }
  channel_->out().clear();
  ResponseSink& sink = channel_->denial(http_minor_);
  sink.start(denial_status_, headers ? headers.ptr() : nullptr, false);
  denial_ = &sink;
  denial_headers_ = pb::object();
}

pb::object WsSession::send_reject_body(PyObject* msg) {
  PyObject* body = dict_get(msg, names.body);
  PyObject* more_obj = dict_get(msg, names.more_body);
  int more_flag = 0;
  if (more_obj != nullptr && (more_flag = PyObject_IsTrue(more_obj)) < 0) {
    throw pb::error_already_set();
  }
  const bool more = more_flag == 1;
  std::string_view data;
  std::unique_ptr<BytesView> view;
  if (body != nullptr && body != Py_None) {
    view = std::make_unique<BytesView>(body);
    if (!view->ok()) raise(PyExc_TypeError, "websocket.http.response.body 'body' must be bytes");
    data = view->data();
  }
  if (transport_gone()) {
    phase_ = Phase::kDone;
    return ready_nothing();
  }
  if (denial_ == nullptr) start_denial(data.size(), !more);
  if (HttpError err = denial_->body(nullptr, data, more)) {
    phase_ = Phase::kDone;
    close_transport();
    raise(PyExc_RuntimeError, std::string(err.reason));
  }
  if (!more) {
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
  or_close("websocket app_returned", [&] {
    switch (phase_) {
      case Phase::kHandshake:
        if (!transport_gone()) {
          channel_->ctx().logger.attr("error")(
              "ASGI callable returned without sending handshake.");
          reject(500, {});
        }
        break;
      case Phase::kResponse:
        channel_->ctx().logger.attr("error")(
            "ASGI callable returned without completing response.");
        end_denial();
        break;
      case Phase::kOpen:
        start_close(WsClose::kNormal, {});
        break;
      case Phase::kDone:
        break;
    }
  });
  phase_ = Phase::kDone;
  finished();
}

void WsSession::app_failed() {
  or_close("websocket app_failed", [&] {
    switch (phase_) {
      case Phase::kHandshake:
        reject(500, {});
        break;
      case Phase::kResponse:
        end_denial();
        break;
      case Phase::kOpen:
        start_close(WsClose::kInternalError, {});
        break;
      case Phase::kDone:
        break;
    }
  });
  phase_ = Phase::kDone;
  finished();
}

void WsSession::end_denial() {
  // A denial the app left unfinished (returned or raised after its start): the head it chose
  // still goes out, then the connection closes (a chunked body is thereby cut off).
  if (denial_ == nullptr && !transport_gone()) start_denial(0, false);
  close_transport();
}

void WsSession::app_returned_value() {
  if (phase_ != Phase::kOpen) {
    app_failed();  // before the accept: 500, as for an exception
    return;
  }
  phase_ = Phase::kDone;
  drop();
  finished();
}

void WsSession::finished() {
  channel_->ctx().task_finished(task);
  receive_waiter_ = pb::object();
  channel_->session_ended();
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
    timer_at_ = 0;
    // A failed cancel leaves a stale tick, which finds nothing due and does nothing.
    if (!cancel_handle(timer_)) PyErr_Clear();
  }
  if (next == 0 || timer_) return;  // nothing due, or the pending tick comes first and reschedules
  pb::object self = pb::cast(this, pb::return_value_policy::reference);
  const double delay = std::max(0.0, next - monotonic_now());
  timer_ = channel_->ctx().call_later(delay, self.attr("_tick").ptr(), "websocket timer");
  if (!timer_) {
    // Refused (logged): without its timer the session cannot keep its deadlines (close
    // handshake, keepalive), so it ends here rather than hang.
    close_deadline_ = pong_deadline_ = next_ping_ = 0;
    if (!transport_closing_) {
      transport_closing_ = true;
      channel_->out().clear();
      channel_->close();
    }
    return;
  }
  timer_at_ = next;
}

void WsSession::tick() {
  timer_ = pb::object();
  timer_at_ = 0;
  if (transport_gone()) return;
  const double now = monotonic_now();
  or_close("websocket timer", [&] {
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
  });
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

// A text message's str as the session builds it: checked once, then built from what the check
// learned (`checked` true, the session's way), or checked and then decoded by CPython (false:
// the way before, for comparison). ValueError for invalid UTF-8.
PyObject* py_ws_text(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || !PyBytes_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "ws_text(data: bytes, checked: bool)");
    return nullptr;
  }
  const std::string_view data(PyBytes_AS_STRING(args[0]),
                              static_cast<std::size_t>(PyBytes_GET_SIZE(args[0])));
  Utf8Validator check;
  if (!check.feed(data) || !check.complete()) {
    PyErr_SetString(PyExc_ValueError, "invalid UTF-8");
    return nullptr;
  }
  if (PyObject_IsTrue(args[1])) return text_from_checked_utf8(data, check);
  return PyUnicode_DecodeUTF8(data.data(), static_cast<Py_ssize_t>(data.size()), nullptr);
}

PyMethodDef hook_methods[] = {
    {"ws_text", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_ws_text)),
     METH_FASTCALL, "A WebSocket text message's str, as the session builds it."},
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

  // receive() and send() run once per message: plain CPython functions (fast_method.hpp).
  static PyMethodDef receive_def = {"receive",
                                    fast_method0<WsSession, &WsSession::receive>, METH_NOARGS,
                                    "The next ASGI message from the client."};
  static PyMethodDef send_def = {"send", fast_method1<WsSession, &WsSession::send>, METH_O,
                                 "Sends an ASGI message to the client."};
  pb::class_<WsSession>(m, "WsSession")
      .def_property_readonly("receive",
                             [](pb::handle self) { return bind_fast_method(receive_def, self); })
      .def_property_readonly("send",
                             [](pb::handle self) { return bind_fast_method(send_def, self); })
      .def("app_returned", &WsSession::app_returned)
      .def("app_failed", &WsSession::app_failed)
      .def("app_returned_value", &WsSession::app_returned_value)
      .def("_tick", &WsSession::tick)
      .def("_denial_due", &WsSession::denial_due);
}

}  // namespace ruvicorn::py
