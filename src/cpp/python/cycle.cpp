// HttpCycle: the ASGI side of one request (receive() and send()): message order, the request
// body handed over in pieces, the access log. Framing and flow control are the sink's.
#include "cycle.hpp"

#include <string>

#include "awaitables.hpp"
#include "names.hpp"
#include "pyutil.hpp"

namespace ruvicorn::py {

namespace {

pb::object disconnect_message() {
  PyObject* msg = _PyDict_NewPresized(1);
  if (msg == nullptr || PyDict_SetItem(msg, names.type, names.http_disconnect) < 0) {
    Py_XDECREF(msg);
    throw pb::error_already_set();
  }
  return pb::reinterpret_steal<pb::object>(msg);
}

bool flag(PyObject* msg, PyObject* key) {
  PyObject* v = dict_get(msg, key);
  if (v == nullptr) return false;
  const int t = PyObject_IsTrue(v);
  if (t < 0) throw pb::error_already_set();
  return t == 1;
}

}  // namespace

HttpCycle::HttpCycle(ResponseSink& sink, pb::object owner, pb::object scope_obj,
                     bool expect_continue)
    : scope(std::move(scope_obj)),
      sink_(&sink),
      owner_(std::move(owner)),
      expect_continue_(expect_continue) {}

// --- the request body ----------------------------------------------------------------------------

void HttpCycle::add_body(std::string_view chunk) {
  // After the response nobody reads the body (receive() says http.disconnect): it is dropped.
  if (chunk.empty() || disconnected_ || response_complete_) return;
  PyObject* b = PyBytes_FromStringAndSize(chunk.data(), static_cast<Py_ssize_t>(chunk.size()));
  if (b == nullptr) throw pb::error_already_set();
  chunks_.push_back(pb::reinterpret_steal<pb::object>(b));
  unread_ += chunk.size();
}

void HttpCycle::end_body() { body_complete_ = true; }

pb::object HttpCycle::take_request_message() {
  // Everything that may fail (MemoryError) comes before the state changes: a failed receive()
  // leaves the pieces for the next one.
  pb::object body;
  if (chunks_.empty()) {
    body = pb::reinterpret_borrow<pb::object>(names.empty_bytes);
  } else if (chunks_.size() == 1) {
    body = chunks_[0];
  } else {
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(chunks_.size()));
    if (list == nullptr) throw pb::error_already_set();
    for (std::size_t i = 0; i < chunks_.size(); ++i) {
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), pb::object(chunks_[i]).release().ptr());
    }
    PyObject* joined = _PyBytes_Join(names.empty_bytes, list);
    Py_DECREF(list);
    if (joined == nullptr) throw pb::error_already_set();
    body = pb::reinterpret_steal<pb::object>(joined);
  }
  PyObject* msg = _PyDict_NewPresized(3);
  if (msg == nullptr) throw pb::error_already_set();
  pb::object owner = pb::reinterpret_steal<pb::object>(msg);
  if (PyDict_SetItem(msg, names.type, names.http_request) < 0 ||
      PyDict_SetItem(msg, names.body, body.ptr()) < 0 ||
      PyDict_SetItem(msg, names.more_body, body_complete_ ? Py_False : Py_True) < 0) {
    throw pb::error_already_set();
  }
  chunks_.clear();
  const std::size_t taken = unread_;
  unread_ = 0;
  if (body_complete_) end_delivered_ = true;
  if (!sink_->gone()) sink_->consumed(taken);
  return owner;
}

pb::object HttpCycle::receive() {
  // The ASGI spec: once the response is complete, receive() says http.disconnect, even when
  // some of the body was never read.
  if (disconnected_ || response_complete_) {
    return ready_object(disconnect_message());
  }
  if (!chunks_.empty() || (body_complete_ && !end_delivered_)) {
    return ready_object(take_request_message());
  }
  if (expect_continue_) {
    // RFC 9110 10.1.1: the client waits for 100 before sending the body; answer only now that the
    // app asks for it.
    expect_continue_ = false;
    if (!response_started_ && !sink_->gone()) sink_->informational(100, nullptr);
  }
  if (receive_waiter_ && !future_done(receive_waiter_)) {
    raise(PyExc_RuntimeError, "receive() called while another receive() is pending");
  }
  receive_waiter_ = sink_->ctx().make_future();
  return receive_waiter_;
}

void HttpCycle::deliver() noexcept {
  if (!receive_waiter_ || response_complete_) return;
  if (chunks_.empty() && !(body_complete_ && !end_delivered_)) return;
  pb::object waiter = std::move(receive_waiter_);
  receive_waiter_ = pb::object();
  try {
    if (future_done(waiter)) return;  // cancelled by the app
    set_result(waiter, take_request_message());
  } catch (pb::error_already_set& e) {
    e.restore();
    abandon(waiter, "receive");
  }
}

void HttpCycle::disconnect() noexcept {
  disconnected_ = true;
  drop_body();
}

void HttpCycle::drop_body() noexcept {
  chunks_.clear();
  unread_ = 0;
  if (!receive_waiter_) return;
  pb::object waiter = std::move(receive_waiter_);
  receive_waiter_ = pb::object();
  try {
    if (!future_done(waiter)) set_result(waiter, disconnect_message());
  } catch (pb::error_already_set& e) {
    e.restore();
    abandon(waiter, "receive (disconnect)");
  }
}

void HttpCycle::abandon(pb::object& waiter, const char* where) noexcept {
  // No message could be handed over (MemoryError): logged, and the waiting receive() is
  // cancelled so that the app does not wait forever.
  sink_->ctx().log_internal_error(where);
  if (!cancel_handle(waiter)) PyErr_Clear();
}

// --- send() ----------------------------------------------------------------------------------------

pb::object HttpCycle::send(pb::object message) {
  PyObject* msg = message.ptr();
  if (!PyDict_Check(msg)) raise(PyExc_TypeError, "ASGI message must be a dict");
  PyObject* type = dict_get(msg, names.type);
  if (type == nullptr) raise(PyExc_KeyError, "ASGI message has no 'type'");
  if (disconnected_) return ready_nothing();
  // Before gone(): an HTTP/2 stream is gone once its response ended, yet a message after the
  // end is the app's bug, reported as uvicorn does.
  if (response_complete_) {
    raise(PyExc_RuntimeError,
          "Unexpected ASGI message '" + type_name(msg) + "' sent, after response already completed.");
  }
  if (sink_->gone()) return ready_nothing();
  if (!response_started_) {
    if (str_is(type, names.http_response_start)) return send_start(msg);
    if (str_is(type, names.http_response_early_hint)) return send_early_hint(msg);
    raise(PyExc_RuntimeError, "Expected ASGI message 'http.response.start', but got '" +
                                  type_name(msg) + "'.");
  }
  if (str_is(type, names.http_response_body)) return send_body(msg);
  if (str_is(type, names.http_response_trailers)) return send_trailers(msg);
  if (str_is(type, names.http_response_pathsend)) return send_pathsend(msg);
  raise(PyExc_RuntimeError, "Expected ASGI message 'http.response.body', but got '" +
                                type_name(msg) + "'.");
}

pb::object HttpCycle::send_start(PyObject* msg) {
  PyObject* status_obj = dict_get(msg, names.status);
  if (status_obj == nullptr || !PyLong_Check(status_obj)) {
    raise(PyExc_TypeError, "http.response.start 'status' must be an int");
  }
  const long status = PyLong_AsLong(status_obj);
  if (status == -1 && PyErr_Occurred()) throw pb::error_already_set();
  if (status < 100 || status > 999) {
    raise(PyExc_ValueError, "invalid HTTP status code " + std::to_string(status));
  }
  sink_->start(static_cast<int>(status), dict_get(msg, names.headers),
               flag(msg, names.trailers));
  response_started_ = true;
  status_ = static_cast<int>(status);
  return ready_nothing();
}

pb::object HttpCycle::send_early_hint(PyObject* msg) {
  // http.response.early_hint (the ASGI extension): a 103 with one Link field per item.
  PyObject* links = dict_get(msg, names.links);
  if (links == nullptr) raise(PyExc_KeyError, "http.response.early_hint needs 'links'");
  sink_->informational(103, links);
  return sink_->writable();
}

pb::object HttpCycle::send_body(PyObject* msg) {
  PyObject* body = dict_get(msg, names.body);
  const bool more = flag(msg, names.more_body);
  if (!more) meter.on_send();  // the app's last message (or the last but trailers)
  if (body == nullptr || body == Py_None) return written(sink_->body(nullptr, {}, more), more);
  BytesView data(body);
  if (!data.ok()) raise(PyExc_TypeError, "http.response.body 'body' must be bytes");
  const HttpError err = sink_->body(PyBytes_CheckExact(body) ? body : nullptr, data.data(), more);
  if (!err) body_sent_ += data.data().size();
  return written(err, more);
}

pb::object HttpCycle::send_trailers(PyObject* msg) {
  const bool more = flag(msg, names.more_trailers);
  if (!more) meter.on_send();  // the app's last message
  return written(sink_->trailers(dict_get(msg, names.headers), more), more);
}

pb::object HttpCycle::send_pathsend(PyObject* msg) {
  // The file is streamed by ruvicorn.protocols.pathsend in bounded chunks through send() itself,
  // so framing, Content-Length checks and flow control are the same as for body messages.
  PyObject* path = dict_get(msg, names.path);
  if (path == nullptr) raise(PyExc_KeyError, "http.response.pathsend needs 'path'");
  pb::module_ glue = pb::module_::import("ruvicorn.protocols");
  return glue.attr("pathsend")(pb::cast(this, pb::return_value_policy::reference),
                               pb::reinterpret_borrow<pb::object>(path));
}

pb::object HttpCycle::written(const HttpError& err, bool more) {
  if (err) {
    // A framing error of the app (e.g. more bytes than its content-length): the exchange is
    // broken. What it sent before still goes out; the offending piece never did.
    sink_->abort_response(err);
    raise(PyExc_RuntimeError, std::string(err.reason));
  }
  // With trailers announced, the body's end is not the response's end: the trailers are.
  if (!more && sink_->complete()) finish_response();
  return sink_->writable();
}

void HttpCycle::log_access() {
  HttpContext& ctx = sink_->ctx();
  if (!ctx.access_log || ctx.access_log.is_none()) return;
  try {
    ctx.access_log(scope, status_, body_sent_);
  } catch (pb::error_already_set& e) {
    e.restore();
    ctx.log_internal_error("access log");
  }
}

void HttpCycle::finish_response() {
  response_complete_ = true;
  // Unread body pieces go; a receive() waiting for more learns that the exchange is over. Not
  // a disconnect: a send() after this still raises, as the app's bug it is.
  drop_body();
  log_access();
  sink_->response_done(*this);
}

// --- the app's end -------------------------------------------------------------------------------

void HttpCycle::app_returned() {
  app_finished_ = true;
  if (!disconnected_ && !sink_->gone() && !response_complete_) {
    const char* what = response_started_ ? "ASGI callable returned without completing response."
                                         : "ASGI callable returned without starting response.";
    try {
      sink_->ctx().logger.attr("error")(what);
    } catch (pb::error_already_set& e) {
      e.restore();
      sink_->ctx().log_internal_error("app_returned");
    }
    sink_->abort_response(response_started_
                              ? HttpError{500, "the application did not complete its response", true}
                              : HttpError{500, "the application sent no response", true});
  }
  metrics_cycle_ended(meter, *this);
  sink_->cycle_ended(*this);
}

void HttpCycle::app_failed() {
  app_finished_ = true;
  if (!disconnected_ && !sink_->gone()) {
    if (!response_complete_) {
      sink_->abort_response(HttpError{500, "the application raised an exception", true});
    } else {
      sink_->failed_after_response();
    }
  }
  metrics_cycle_ended(meter, *this);
  sink_->cycle_ended(*this);
}

}  // namespace ruvicorn::py
