// StreamSink: what an HTTP/2 stream (H2Stream) and an HTTP/3 stream (H3Stream) do alike as the
// ResponseSink of an HttpCycle: the response head, body, trailers and early hints handed to
// their connection's core, the drain waiter of a send() and the answer to a failed app. The two
// cores have the same response API (begin_response, response_field, end_response, data,
// trailers, informational, error_response, reset), so this is one template over them.
//
// Derived provides `conn()`, `gone()`, `send_data(data, end_stream)` (how DATA is queued: HTTP/2
// may write large bodies directly), `kInternalError` (its core's reset code) and `kDrainWaiter`
// (what the log calls a failure to wake the waiter).
// The protocol provides ctx() and output_ready().
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "context.hpp"
#include "pyutil.hpp"
#include "sink.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;

[[noreturn]] inline void raise_app_error(const char* what, const HttpError& err) {
  raise(PyExc_RuntimeError, std::string(what) + std::string(err.reason));
}

template <class Derived, class Protocol, class Id>
class StreamSink : public ResponseSink {
 public:
  Id id() const { return id_; }

  HttpContext& ctx() const override { return protocol_->ctx(); }
  bool complete() const override { return complete_; }
  void start(int status, PyObject* headers, bool trailers) override;
  HttpError body(PyObject* body, std::string_view data, bool more) override;
  HttpError trailers(PyObject* headers, bool more) override;
  void informational(int status, PyObject* links) override;
  void abort_response(const HttpError& error) noexcept override;

  // From the protocol: the stream is gone (reset, or the connection lost). A send() waiting for
  // it returns, or raises `lost` when given (a WebSocket's: ASGI 2.4).
  void reset(PyObject* lost = nullptr) noexcept {
    reset_ = true;
    release_waiter(lost);
  }

 protected:
  using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

  StreamSink(Protocol& protocol, pb::object owner, Id id, bool head_request)
      : protocol_(&protocol), owner_(std::move(owner)), id_(id), head_request_(head_request) {}
  ~StreamSink() override { release_waiter(); }

  Derived& self() { return static_cast<Derived&>(*this); }
  // Resolves a send() waiting for the stream to drain (now, or because the stream is gone:
  // with `error` raised, when given).
  void release_waiter(PyObject* error = nullptr) noexcept;

  Protocol* protocol_;
  pb::object owner_;  // keeps the protocol alive as long as the app holds this stream
  Id id_;
  bool head_request_;
  bool reset_ = false;
  bool started_ = false;
  bool expect_trailers_ = false;
  bool body_done_ = false;
  bool complete_ = false;
  bool ended_ = false;  // the stream's end (or a reset) was queued
  std::vector<std::pair<std::string, std::string>> trailers_;  // pieces with more_trailers
  pb::object drain_waiter_;
};

template <class Derived, class Protocol, class Id>
void StreamSink<Derived, Protocol, Id>::start(int status, PyObject* headers, bool trailers) {
  auto& conn = self().conn();
  if (HttpError err = conn.begin_response(id_, status, head_request_)) {
    raise_app_error("invalid response: ", err);
  }
  // A failed field leaves nothing queued (the core discards the unfinished head); the app's
  // exception then leads to a 500 through abort_response().
  for_each_header(headers, "http.response.start 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    if (HttpError err = conn.response_field(name, value)) {
                      raise_app_error("invalid response header: ", err);
                    }
                  });
  if (HttpError err = conn.end_response(false)) raise_app_error("invalid response: ", err);
  started_ = true;
  expect_trailers_ = trailers;
  protocol_->output_ready();
}

template <class Derived, class Protocol, class Id>
HttpError StreamSink<Derived, Protocol, Id>::body(PyObject*, std::string_view data, bool more) {
  // With trailers announced the body's end is not the stream's end: the trailers' HEADERS is.
  const bool end_stream = !more && !expect_trailers_;
  if (HttpError err = self().send_data(data, end_stream)) return err;
  if (!more) {
    body_done_ = true;
    complete_ = !expect_trailers_;
    ended_ = end_stream;
  }
  protocol_->output_ready();
  return {};
}

template <class Derived, class Protocol, class Id>
HttpError StreamSink<Derived, Protocol, Id>::trailers(PyObject* headers, bool more) {
  auto& conn = self().conn();
  if (!body_done_) {
    // Trailers end the body (as on HTTP/1.1, where they follow the last chunk).
    if (HttpError err = conn.data(id_, {}, false)) return err;
    body_done_ = true;
  }
  for_each_header(headers, "http.response.trailers 'headers'",
                  [&](std::string_view name, std::string_view value) {
                    trailers_.emplace_back(std::string(name), std::string(value));
                  });
  if (more) return {};
  Fields fields;
  fields.reserve(trailers_.size());
  for (const auto& [name, value] : trailers_) fields.emplace_back(name, value);
  HttpError err = conn.trailers(id_, fields);
  trailers_.clear();
  if (err) return err;
  complete_ = ended_ = true;
  protocol_->output_ready();
  return {};
}

template <class Derived, class Protocol, class Id>
void StreamSink<Derived, Protocol, Id>::informational(int status, PyObject* links) {
  Fields fields;
  for_each_bytes(links, "http.response.early_hint 'links'",
                 [&](std::string_view link) { fields.emplace_back("link", link); });
  if (HttpError err = self().conn().informational(id_, status, fields)) {
    raise_app_error("invalid early hint: ", err);
  }
  protocol_->output_ready();
}

template <class Derived, class Protocol, class Id>
void StreamSink<Derived, Protocol, Id>::abort_response(const HttpError& error) noexcept {
  if (self().gone()) return;
  auto& conn = self().conn();
  if (!started_) {
    conn.error_response(id_, error);
  } else if (!ended_) {
    // Part of the response went out: the client must not take it for the whole (RFC 9113 8.1,
    // RFC 9114 4.1).
    conn.reset(id_, Derived::kInternalError);
  }
  ended_ = true;
  protocol_->output_ready();
}

template <class Derived, class Protocol, class Id>
void StreamSink<Derived, Protocol, Id>::release_waiter(PyObject* error) noexcept {
  if (!drain_waiter_) return;
  protocol_->ctx().guard(Derived::kDrainWaiter, [&] { wake_waiter(drain_waiter_, error); });
}

}  // namespace ruvicorn::py
