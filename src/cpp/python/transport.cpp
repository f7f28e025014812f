#include "transport.hpp"

#include "awaitables.hpp"
#include "metrics_hooks.hpp"
#include "names.hpp"
#include "pyutil.hpp"
#include "tls_info.hpp"

namespace ruvicorn::py {

namespace {

// `value`, or `last` when they are equal; `last` is what is returned. Many connections from one
// client host, or to one listening address, then share one object rather than each a copy.
pb::object shared_if_equal(pb::object value, pb::object& last) {
  if (last) {
    const int equal = PyObject_RichCompareBool(value.ptr(), last.ptr(), Py_EQ);
    if (equal == 1) return last;
    if (equal < 0) PyErr_Clear();  // not comparable: this one is kept as it is
  }
  last = value;
  return value;
}

// (host, port) from a socket address as asyncio reports it, the host shared with the last
// connection's when equal (`last_host`); None when there is none (UNIX socket).
pb::object host_port(const pb::object& addr, pb::object& last_host) {
  if (PyTuple_Check(addr.ptr()) && PyTuple_GET_SIZE(addr.ptr()) >= 2) {
    pb::object host = shared_if_equal(
        pb::reinterpret_borrow<pb::object>(PyTuple_GET_ITEM(addr.ptr(), 0)), last_host);
    PyObject* pair = PyTuple_Pack(2, host.ptr(), PyTuple_GET_ITEM(addr.ptr(), 1));
    if (pair == nullptr) throw pb::error_already_set();
    return pb::reinterpret_steal<pb::object>(pair);
  }
  return pb::none();
}

std::string selected_alpn(const pb::object& info) {
  pb::object ssl_object = info(pb::str("ssl_object"));
  if (ssl_object.is_none() || !pb::hasattr(ssl_object, "selected_alpn_protocol")) return {};
  pb::object chosen = ssl_object.attr("selected_alpn_protocol")();
  return chosen.is_none() ? std::string() : chosen.cast<std::string>();
}

}  // namespace

void Transport::attach(pb::object transport, pb::object owner) {
  transport_ = transport;
  owner_ = std::move(owner);
  write_ = transport.attr(names.write);
  closed_ = false;
  close_called_ = false;

  pb::object info = transport.attr(names.get_extra_info);
  peer_.client = host_port(info(pb::handle(names.peername)), ctx_.last_client_host);
  pb::object sockname = info(pb::handle(names.sockname));
  pb::object server_host;  // the whole (host, port) is shared instead
  peer_.server = host_port(sockname, server_host);
  if (peer_.server.is_none() && PyUnicode_Check(sockname.ptr())) {
    peer_.server = pb::make_tuple(sockname, pb::none());  // UNIX socket: (path, None)
  }
  if (!peer_.server.is_none()) peer_.server = shared_if_equal(peer_.server, ctx_.last_server);
  peer_.tls = !info(pb::handle(names.sslcontext)).is_none();
  peer_.scheme = pb::reinterpret_borrow<pb::object>(peer_.tls ? names.scheme_https
                                                              : names.scheme_http);
  if (peer_.tls) peer_.alpn = selected_alpn(info);
  if (peer_.tls) peer_.tls_info = tls_extension(ctx_, info);
  if (ctx_.proxy_trusted && !ctx_.proxy_trusted.is_none()) {
    // Decided once per connection; each request then only looks for the two headers.
    pb::object host = peer_.client.is_none() ? pb::none() : pb::object(peer_.client[pb::int_(0)]);
    const int r = PySequence_Contains(ctx_.proxy_trusted.ptr(), host.ptr());
    if (r < 0) throw pb::error_already_set();
    peer_.trusted_proxy = r == 1;
  }
}

void Transport::adopt(const Transport& from, pb::object owner) {
  transport_ = from.transport_;
  owner_ = std::move(owner);
  write_ = from.write_;
  peer_ = from.peer_;
  writing_paused_ = from.writing_paused_;
  reading_paused_ = from.reading_paused_;
  closed_ = from.closed_;
  close_called_ = from.close_called_;
}

void Transport::detach(PyObject* lost) {
  metrics_written(ctx_, *this);  // held responses end with the connection
  closed_ = true;
  drop_output();
  release_drain_waiter(lost);
  transport_ = pb::none();
  write_ = pb::object();
  owner_ = pb::object();
}

void Transport::flush() {
  std::string& out = *out_;
  if (out.empty()) return;
  if (closed_ || !write_) {
    drop_output();
    return;
  }
  PyObject* bytes = PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
  drop_output();
  if (bytes == nullptr) throw pb::error_already_set();
  pb::object owner = pb::reinterpret_steal<pb::object>(bytes);
  write(bytes);
}

void Transport::drop_output() {
  // Back to the thread's pool, whoever's buffer it is (an HTTP/2 connection takes one again
  // when it next writes), unless a busy owner keeps it; a large one is freed instead.
  if (keep_output_ && !closed_) {
    clear_within(*out_, ctx_.limits.high_water);
  } else {
    recycle(*out_, ctx_.limits.high_water);
  }
}

void Transport::call(PyObject* method) {
  PyObject* r = PyObject_CallMethodNoArgs(transport_.ptr(), method);
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
}

void Transport::write(PyObject* bytes) {
  if (closed_ || !write_) return;
  PyObject* r = PyObject_CallOneArg(write_.ptr(), bytes);
  if (r == nullptr) throw pb::error_already_set();
  Py_DECREF(r);
  metrics_written(ctx_, *this);
}

void Transport::hold() {
  if (held_ || closed_ || !owner_) return;
  held_ = true;  // first: hold_output may write it at once (flush_held clears it)
  ctx_.hold_output(*this, owner_);
}

void Transport::flush_held() noexcept {
  held_ = false;
  if (!writing_paused_) write_held();  // pause_writing() means stop: resume_writing() sends it
}

void Transport::write_held() noexcept {
  // Empty in the common case: the response's last piece took everything held along with it.
  if (out_->empty()) return;
  if (closed_ || !write_) {
    drop_output();
    return;
  }
  try {
    // Closing since (the client's EOF, an abort): nothing more goes out.
    PyObject* closing = PyObject_CallMethodNoArgs(transport_.ptr(), names.is_closing);
    if (closing == nullptr) throw pb::error_already_set();
    const int is_closing = PyObject_IsTrue(closing);
    Py_DECREF(closing);
    if (is_closing < 0) throw pb::error_already_set();
    if (is_closing == 1) {
      drop_output();
      return;
    }
    flush();
  } catch (pb::error_already_set& e) {
    e.restore();
    ctx_.log_internal_error("response flush");
    close();
  } catch (...) {
    // A loop callback and resume_writing() must not throw; a C++ failure here loses the bytes.
    drop_output();
  }
}

void Transport::close() noexcept {
  if (closed_ || !write_ || close_called_) return;
  close_called_ = true;
  PyObject* r = PyObject_CallMethodNoArgs(transport_.ptr(), names.close);
  if (r == nullptr) {
    ctx_.log_internal_error("transport close");
    return;
  }
  Py_DECREF(r);
}

void Transport::abort() noexcept {
  if (closed_ || transport_.is_none()) return;
  PyObject* r = PyObject_CallMethod(transport_.ptr(), "abort", nullptr);
  if (r == nullptr) {
    ctx_.log_internal_error("transport abort");
    return;
  }
  Py_DECREF(r);
}

void Transport::resume_writing() {
  writing_paused_ = false;
  write_held();  // bytes held back while paused (flush_held)
  release_drain_waiter();
}

void Transport::release_drain_waiter(PyObject* error) noexcept {
  if (!drain_waiter_) return;
  ctx_.guard("drain waiter", [&] { wake_waiter(drain_waiter_, error); });
}

pb::object Transport::writable() {
  if (writing_paused_ && !closed_) {
    // pause_writing() means stop: the app's send() waits until the transport drains.
    if (!drain_waiter_) drain_waiter_ = ctx_.make_future();
    return drain_waiter_;
  }
  return pb::reinterpret_steal<pb::object>(ready_none());
}

void Transport::pause_reading() {
  if (reading_paused_ || closed_ || !write_) return;
  reading_paused_ = true;
  call(names.pause_reading);
}

void Transport::resume_reading() {
  if (!reading_paused_ || closed_ || !write_) return;
  reading_paused_ = false;
  call(names.resume_reading);
}

}  // namespace ruvicorn::py
