// HttpCycle: one request/response exchange as the ASGI app sees it (receive() and send()).
#include <string>

#include "awaitables.hpp"
#include "names.hpp"
#include "protocol.hpp"

namespace ruvicorn::py {

namespace {

PyObject* dict_get(PyObject* dict, PyObject* key) {
  PyObject* v = PyDict_GetItemWithError(dict, key);  // borrowed
  return v;
}

std::string type_name(PyObject* message) {
  PyObject* t = PyDict_Check(message) ? PyDict_GetItemWithError(message, names.type) : nullptr;
  if (t != nullptr && PyUnicode_Check(t)) return PyUnicode_AsUTF8(t);
  return "<no type>";
}

// bytes-like view of `obj`; false if it is not bytes/bytearray/memoryview.
bool bytes_view(PyObject* obj, std::string_view& out, Py_buffer& view, bool& release) {
  release = false;
  if (PyBytes_Check(obj)) {
    out = std::string_view(PyBytes_AS_STRING(obj), static_cast<std::size_t>(PyBytes_GET_SIZE(obj)));
    return true;
  }
  if (PyObject_CheckBuffer(obj) && !PyUnicode_Check(obj)) {
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) return false;
    release = true;
    out = std::string_view(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    return true;
  }
  return false;
}

[[noreturn]] void raise(PyObject* type, const std::string& text) {
  PyErr_SetString(type, text.c_str());
  throw pb::error_already_set();
}

}  // namespace

HttpCycle::HttpCycle(HttpProtocol& protocol, const Request& request, pb::object scope_obj)
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
      ResponseWriter::continue_response(protocol_->out());
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
  if (type == nullptr) {
    if (PyErr_Occurred()) throw pb::error_already_set();
    raise(PyExc_KeyError, "ASGI message has no 'type'");
  }
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
    if (PyErr_Occurred()) throw pb::error_already_set();
    raise(PyExc_TypeError, "http.response.start 'status' must be an int");
  }
  const long status = PyLong_AsLong(status_obj);
  if (status < 100 || status > 999) raise(PyExc_ValueError, "invalid HTTP status code " + std::to_string(status));
  ResponseWriter& w = protocol_->writer();
  w.begin(response_ctx_, static_cast<int>(status));
  PyObject* headers = dict_get(msg, names.headers);
  if (headers != nullptr && headers != Py_None) {
    PyObject* seq = PySequence_Fast(headers, "http.response.start 'headers' must be an iterable");
    if (seq == nullptr) throw pb::error_already_set();
    pb::object seq_owner = pb::reinterpret_steal<pb::object>(seq);
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject** items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* pair = items[i];
      PyObject *name, *value;
      if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {
        name = PyTuple_GET_ITEM(pair, 0);
        value = PyTuple_GET_ITEM(pair, 1);
      } else if (PyList_Check(pair) && PyList_GET_SIZE(pair) == 2) {
        name = PyList_GET_ITEM(pair, 0);
        value = PyList_GET_ITEM(pair, 1);
      } else {
        raise(PyExc_TypeError, "each response header must be a (name, value) pair of bytes");
      }
      if (!PyBytes_Check(name) || !PyBytes_Check(value)) {
        raise(PyExc_TypeError, "response header names and values must be bytes");
      }
      HttpError err = w.header(
          std::string_view(PyBytes_AS_STRING(name), static_cast<std::size_t>(PyBytes_GET_SIZE(name))),
          std::string_view(PyBytes_AS_STRING(value), static_cast<std::size_t>(PyBytes_GET_SIZE(value))));
      if (err) {
        w.reset();
        raise(PyExc_RuntimeError, "invalid response header: " + std::string(err.reason));
      }
    }
  } else if (headers == nullptr && PyErr_Occurred()) {
    throw pb::error_already_set();
  }
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
  // The head stays in the output buffer: it goes out with the first body bytes in one write.
  return pb::reinterpret_steal<pb::object>(ready_none());
}

pb::object HttpCycle::send_body(PyObject* msg) {
  PyObject* body = dict_get(msg, names.body);
  if (body == nullptr && PyErr_Occurred()) throw pb::error_already_set();
  PyObject* more_obj = dict_get(msg, names.more_body);
  if (more_obj == nullptr && PyErr_Occurred()) throw pb::error_already_set();
  const bool more = more_obj != nullptr && PyObject_IsTrue(more_obj) == 1;
  std::string_view data;
  Py_buffer view;
  bool release = false;
  if (body != nullptr && body != Py_None && !bytes_view(body, data, view, release)) {
    if (PyErr_Occurred()) throw pb::error_already_set();
    raise(PyExc_TypeError, "http.response.body 'body' must be bytes");
  }
  HttpError err = protocol_->writer().body(data, more, protocol_->out());
  if (release) PyBuffer_Release(&view);
  return written(err, more);
}

pb::object HttpCycle::send_trailers(PyObject* msg) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  PyObject* headers = dict_get(msg, names.headers);
  pb::object seq_owner;
  if (headers != nullptr && headers != Py_None) {
    PyObject* seq = PySequence_Fast(headers, "http.response.trailers 'headers' must be an iterable");
    if (seq == nullptr) throw pb::error_already_set();
    seq_owner = pb::reinterpret_steal<pb::object>(seq);
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
      PyObject* pair = PySequence_Fast_GET_ITEM(seq, i);
      if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
          !PyBytes_Check(PyTuple_GET_ITEM(pair, 0)) || !PyBytes_Check(PyTuple_GET_ITEM(pair, 1))) {
        raise(PyExc_TypeError, "each trailer must be a (name, value) tuple of bytes");
      }
      PyObject* n = PyTuple_GET_ITEM(pair, 0);
      PyObject* v = PyTuple_GET_ITEM(pair, 1);
      fields.emplace_back(std::string_view(PyBytes_AS_STRING(n), PyBytes_GET_SIZE(n)),
                          std::string_view(PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v)));
    }
  }
  PyObject* more_obj = dict_get(msg, names.more_trailers);
  const bool more = more_obj != nullptr && PyObject_IsTrue(more_obj) == 1;
  return written(protocol_->writer().trailers(fields, more, protocol_->out()), more);
}

pb::object HttpCycle::send_pathsend(PyObject* msg) {
  // The file is streamed by ruvicorn.protocols.pathsend in bounded chunks through send() itself,
  // so framing, Content-Length checks and flow control are the same as for body messages.
  PyObject* path = dict_get(msg, names.path);
  if (path == nullptr) {
    if (PyErr_Occurred()) throw pb::error_already_set();
    raise(PyExc_KeyError, "http.response.pathsend needs 'path'");
  }
  pb::module_ glue = pb::module_::import("ruvicorn.protocols");
  return glue.attr("pathsend")(pb::cast(this, pb::return_value_policy::reference),
                               pb::reinterpret_borrow<pb::object>(path));
}

pb::object HttpCycle::written(const HttpError& err, bool more) {
  if (err) {
    // A framing error of the app (e.g. more bytes than its Content-Length): the stream is broken.
    protocol_->out().clear();
    protocol_->close_transport();
    raise(PyExc_RuntimeError, std::string(err.reason));
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
      protocol_->close_transport();
    }
  }
  protocol_->cycle_finished(*this);
}

}  // namespace ruvicorn::py
