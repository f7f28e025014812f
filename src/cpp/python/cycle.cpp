// HttpCycle: one request/response exchange as the ASGI app sees it (receive() and send()).
#include <string>

#include "awaitables.hpp"
#include "names.hpp"
#include "protocol.hpp"
#include "pyutil.hpp"

namespace ruvicorn::py {

// Bodies at least this large are written as the app's bytes object rather than copied into the
// output buffer: past this size two copies cost more than the extra transport.write() calls.
constexpr std::size_t kZeroCopyBody = 32 * 1024;
// Streamed response bytes held for one write at most this much (see written()).
constexpr std::size_t kHoldOutput = 64 * 1024;


HttpCycle::HttpCycle(HttpProtocol& protocol, const http1::Request& request, pb::object scope_obj)
    : scope(std::move(scope_obj)), protocol_(&protocol), protocol_obj_(protocol.self_handle()) {
  response_ctx_.http_minor = request.head.http_minor;
  response_ctx_.head_request = request.head.method == "HEAD";
  response_ctx_.keep_alive = request.keep_alive;
  expect_continue_ = request.expect_continue;
}

void HttpCycle::add_body(std::string_view chunk) {
  if (chunk.empty()) return;
  PyObject* b = PyBytes_FromStringAndSize(chunk.data(), static_cast<Py_ssize_t>(chunk.size()));
  if (b == nullptr) throw pb::error_already_set();
  chunks_.push_back(pb::reinterpret_steal<pb::object>(b));
  unread_ += chunk.size();
}

void HttpCycle::end_body() { body_complete_ = true; }

pb::object HttpCycle::take_request_message() {
  pb::object body;
  if (chunks_.empty()) {
    body = pb::reinterpret_borrow<pb::object>(names.empty_bytes);
  } else if (chunks_.size() == 1) {
    body = std::move(chunks_[0]);
  } else {
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(chunks_.size()));
    for (std::size_t i = 0; i < chunks_.size(); ++i) {
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), chunks_[i].release().ptr());
    }
    PyObject* joined = _PyBytes_Join(names.empty_bytes, list);
    Py_DECREF(list);
    if (joined == nullptr) throw pb::error_already_set();
    body = pb::reinterpret_steal<pb::object>(joined);
  }
  chunks_.clear();
  unread_ = 0;
  if (body_complete_) end_delivered_ = true;
  PyObject* msg = _PyDict_NewPresized(3);
  PyDict_SetItem(msg, names.type, names.http_request);
  PyDict_SetItem(msg, names.body, body.ptr());
  PyDict_SetItem(msg, names.more_body, body_complete_ ? Py_False : Py_True);
  if (!protocol_->closed()) protocol_->maybe_resume_reading();
  return pb::reinterpret_steal<pb::object>(msg);
}

static pb::object disconnect_message() {
  PyObject* msg = _PyDict_NewPresized(1);
  PyDict_SetItem(msg, names.type, names.http_disconnect);
  return pb::reinterpret_steal<pb::object>(msg);
}

pb::object HttpCycle::receive() {
  if (disconnected_ || (end_delivered_ && response_complete_)) {
    return pb::reinterpret_steal<pb::object>(ready(disconnect_message().ptr()));
  }
  if (!chunks_.empty() || (body_complete_ && !end_delivered_)) {
    return pb::reinterpret_steal<pb::object>(ready(take_request_message().ptr()));
  }
  if (expect_continue_) {
    // RFC 9110 10.1.1: the client waits for 100 before sending the body; answer only now that the
    // app asks for it.
    expect_continue_ = false;
    if (!response_started_ && !protocol_->closed()) {
      http1::ResponseWriter::continue_response(protocol_->out());
      protocol_->flush();
    }
  }
  if (receive_waiter_ && !receive_waiter_.attr(names.done)().cast<bool>()) {
    raise(PyExc_RuntimeError, "receive() called while another receive() is pending");
  }
  receive_waiter_ = protocol_->make_future();
  return receive_waiter_;
}

void HttpCycle::deliver() {
  if (!receive_waiter_) return;
  if (chunks_.empty() && !(body_complete_ && !end_delivered_)) return;
  pb::object waiter = std::move(receive_waiter_);
  receive_waiter_ = pb::object();
  if (waiter.attr(names.done)().cast<bool>()) return;  // cancelled by the app
  waiter.attr(names.set_result)(take_request_message());
}

void HttpCycle::disconnect() {
  disconnected_ = true;
  chunks_.clear();
  unread_ = 0;
  if (receive_waiter_) {
    pb::object waiter = std::move(receive_waiter_);
    receive_waiter_ = pb::object();
    if (!waiter.attr(names.done)().cast<bool>()) waiter.attr(names.set_result)(disconnect_message());
  }
}

pb::object HttpCycle::send(pb::object message) {
  PyObject* msg = message.ptr();
  if (!PyDict_Check(msg)) raise(PyExc_TypeError, "ASGI message must be a dict");
  PyObject* type = dict_get(msg, names.type);
  if (type == nullptr) raise(PyExc_KeyError, "ASGI message has no 'type'");
  if (disconnected_ || protocol_->closed()) return pb::reinterpret_steal<pb::object>(ready_none());
  if (!response_started_) {
    if (!str_is(type, names.http_response_start)) {
      raise(PyExc_RuntimeError, "Expected ASGI message 'http.response.start', but got '" +
                                    type_name(msg) + "'.");
    }
    return send_start(msg);
  }
  if (response_complete_) {
    raise(PyExc_RuntimeError,
          "Unexpected ASGI message '" + type_name(msg) + "' sent, after response already completed.");
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
  if (status < 100 || status > 999) {
    raise(PyExc_ValueError, "invalid HTTP status code " + std::to_string(status));
  }
  http1::ResponseWriter& w = protocol_->writer();
  w.begin(response_ctx_, static_cast<int>(status));
  for_each_header(dict_get(msg, names.headers), "http.response.start 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    HttpError err = w.header(name, value);
                    if (err) {
                      w.reset();
                      raise(PyExc_RuntimeError,
                            "invalid response header: " + std::string(err.reason));
                    }
                  });
  PyObject* trailers = dict_get(msg, names.trailers);
  if (trailers != nullptr && PyObject_IsTrue(trailers) == 1) w.expect_trailers();
  HttpError err = w.end_head(protocol_->out());
  if (err) {
    w.reset();
    protocol_->out().clear();
    raise(PyExc_RuntimeError, "invalid response: " + std::string(err.reason));
  }
  response_started_ = true;
  status_ = static_cast<int>(status);
  // The head stays in the output buffer: it goes out with the first body bytes in one write, or
  // at the end of this loop iteration if the app suspends before its body (long-poll, SSE).
  protocol_->hold_output();
  return pb::reinterpret_steal<pb::object>(ready_none());
}

pb::object HttpCycle::send_body(PyObject* msg) {
  PyObject* body = dict_get(msg, names.body);
  PyObject* more_obj = dict_get(msg, names.more_body);
  const bool more = more_obj != nullptr && PyObject_IsTrue(more_obj) == 1;
  if (body == nullptr || body == Py_None) {
    return written(protocol_->writer().body({}, more, protocol_->out()), more);
  }
  BytesView data(body);
  if (!data.ok()) raise(PyExc_TypeError, "http.response.body 'body' must be bytes");
  if (data.data().size() >= kZeroCopyBody && PyBytes_CheckExact(body)) {
    // Large bodies go to the transport as the app's own bytes object: framing around it, no copy.
    http1::ResponseWriter::BodyFrame frame;
    HttpError err =
        protocol_->writer().body_frame(data.data().size(), more, protocol_->out(), frame);
    if (!err && frame.payload) {
      protocol_->flush();
      protocol_->write_object(body);
    }
    if (!err) protocol_->out().append(frame.suffix, frame.suffix_len);
    return written(err, more);
  }
  return written(protocol_->writer().body(data.data(), more, protocol_->out()), more);
}

pb::object HttpCycle::send_trailers(PyObject* msg) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  PyObject* headers = dict_get(msg, names.headers);
  for_each_header(headers, "http.response.trailers 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    fields.emplace_back(name, value);
                  });
  PyObject* more_obj = dict_get(msg, names.more_trailers);
  const bool more = more_obj != nullptr && PyObject_IsTrue(more_obj) == 1;
  return written(protocol_->writer().trailers(fields, more, protocol_->out()), more);
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
    // A framing error of the app (e.g. more bytes than its Content-Length): the stream is broken.
    // What it sent before (held for one write) still goes out; the offending piece never did.
    protocol_->write_held_output();
    protocol_->close_transport();
    raise(PyExc_RuntimeError, std::string(err.reason));
  }
  // A streamed piece waits (bounded) for what the app sends next in this step: chunks sent in a
  // row share one write; the end of the loop iteration writes whatever is left.
  if (more && protocol_->out().size() < kHoldOutput) {
    protocol_->hold_output();
    return after_write();
  }
  protocol_->flush();
  // With trailers announced, the body's end is not the response's end: the trailers are.
  if (!more && protocol_->writer().complete()) finish_response();
  return after_write();
}

pb::object HttpCycle::after_write() {
  if (protocol_->writing_paused() && !protocol_->closed()) {
    // pause_writing() means stop: the app's send() waits until the transport drains.
    if (!protocol_->drain_waiter_) protocol_->drain_waiter_ = protocol_->make_future();
    return protocol_->drain_waiter_;
  }
  return pb::reinterpret_steal<pb::object>(ready_none());
}

void HttpCycle::finish_response() {
  response_complete_ = true;
  protocol_->response_complete(*this);
  if (receive_waiter_ && end_delivered_) disconnect();
}

void HttpCycle::app_returned() {
  app_finished_ = true;
  if (!disconnected_ && !protocol_->closed()) {
    if (!response_started_) {
      protocol_->ctx().logger.attr("error")("ASGI callable returned without starting response.");
      protocol_->send_error_response(HttpError{500, "the application sent no response", true});
    } else if (!response_complete_) {
      protocol_->ctx().logger.attr("error")("ASGI callable returned without completing response.");
      protocol_->write_held_output();  // what it did send reaches the client before the close
      protocol_->close_transport();
    }
  }
  protocol_->cycle_finished(*this);
}

void HttpCycle::app_failed() {
  app_finished_ = true;
  if (!disconnected_ && !protocol_->closed() && !response_complete_) {
    if (!response_started_) {
      protocol_->out().clear();
      protocol_->writer().reset();
      protocol_->send_error_response(HttpError{500, "the application raised an exception", true});
    } else {
      protocol_->write_held_output();  // what it did send reaches the client before the close
      protocol_->close_transport();
    }
  }
  protocol_->cycle_finished(*this);
}

}  // namespace ruvicorn::py
