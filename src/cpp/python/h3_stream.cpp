#include "h3_stream.hpp"

#include <string>

#include "cycle.hpp"
#include "h3_protocol.hpp"
#include "pyutil.hpp"

namespace ruvicorn::py {

namespace {

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

[[noreturn]] void raise_app_error(const char* what, const HttpError& err) {
  raise(PyExc_RuntimeError, std::string(what) + std::string(err.reason));
}

}  // namespace

H3Stream::H3Stream(H3Protocol& protocol, pb::object owner, std::uint64_t id, bool head_request)
    : protocol_(&protocol), owner_(std::move(owner)), id_(id), head_request_(head_request) {}

H3Stream::~H3Stream() { release_waiter(); }

HttpContext& H3Stream::ctx() const { return protocol_->ctx(); }

bool H3Stream::gone() const {
  return reset_ || protocol_->closed() || !protocol_->conn().writable(id_);
}

// --- ResponseSink --------------------------------------------------------------------------------

void H3Stream::start(int status, PyObject* headers, bool trailers) {
  http3::Connection& conn = protocol_->conn();
  if (HttpError err = conn.begin_response(id_, status, head_request_)) {
    raise_app_error("invalid response: ", err);
  }
  // A failed field leaves nothing queued; the app's exception then leads to a 500 through
  // abort_response().
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

HttpError H3Stream::body(PyObject*, std::string_view data, bool more) {
  // With trailers announced the body's end is not the stream's end: the trailers' HEADERS is.
  const bool end_stream = !more && !expect_trailers_;
  if (HttpError err = protocol_->conn().data(id_, data, end_stream)) return err;
  queued_ += data.size();
  if (!more) {
    body_done_ = true;
    complete_ = !expect_trailers_;
    ended_ = end_stream;
  }
  protocol_->output_ready();
  return {};
}

HttpError H3Stream::trailers(PyObject* headers, bool more) {
  if (!body_done_) {
    if (HttpError err = protocol_->conn().data(id_, {}, false)) return err;
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
  HttpError err = protocol_->conn().trailers(id_, fields);
  trailers_.clear();
  if (err) return err;
  complete_ = ended_ = true;
  protocol_->output_ready();
  return {};
}

void H3Stream::informational(int status, PyObject* links) {
  Fields fields;
  if (links != nullptr) {
    for_each_bytes(links, "http.response.early_hint 'links'",
                   [&](std::string_view link) { fields.emplace_back("link", link); });
  }
  if (HttpError err = protocol_->conn().informational(id_, status, fields)) {
    raise_app_error("invalid early hint: ", err);
  }
  protocol_->output_ready();
}

pb::object H3Stream::writable() {
  if (gone()) return ready_nothing();
  // The QUIC library keeps what it cannot send yet (flow control, congestion). Its buffer is
  // measured only once this stream has queued a high-water mark's worth since it was last
  // measured, so small responses never ask.
  const std::size_t high_water = ctx().limits.high_water;
  if (queued_ <= high_water) return ready_nothing();
  protocol_->flush();  // what the core holds for the stream goes to the library first
  queued_ = protocol_->send_buffered(id_);
  if (queued_ <= high_water) return ready_nothing();
  if (!drain_waiter_) drain_waiter_ = ctx().make_future();
  protocol_->watch(id_);
  return drain_waiter_;
}

void H3Stream::drained() noexcept {
  if (!drain_waiter_) return;
  if (!reset_) {
    try {
      queued_ = protocol_->send_buffered(id_);
    } catch (pb::error_already_set& e) {
      e.restore();
      protocol_->ctx().log_internal_error("http3 send buffer");
    }
    if (queued_ > ctx().limits.high_water / 2) return;
  }
  release_waiter();
}

void H3Stream::release_waiter() noexcept {
  if (!drain_waiter_) return;
  pb::object waiter = std::move(drain_waiter_);
  drain_waiter_ = pb::object();
  try {
    if (!future_done(waiter)) set_result(waiter, pb::none());
  } catch (pb::error_already_set& e) {
    e.restore();
    protocol_->ctx().log_internal_error("http3 drain waiter");
  }
}

void H3Stream::consumed(std::size_t n) {
  if (n == 0) return;
  protocol_->conn().consume(id_, n);
  protocol_->maybe_resume();
}

void H3Stream::response_done(HttpCycle& cycle) {
  // The protocol's datagrams go out at the end of this loop iteration: count it done now.
  metrics_response_done(ctx(), nullptr, cycle);
}

void H3Stream::abort_response(const HttpError& error) noexcept {
  if (gone()) return;
  http3::Connection& conn = protocol_->conn();
  if (!started_) {
    conn.error_response(id_, error);
  } else if (!ended_) {
    // Part of the response went out: the client must not take it for the whole.
    conn.reset(id_, http3::ErrorCode::kInternalError);
  }
  ended_ = true;
  protocol_->output_ready();
}

void H3Stream::cycle_ended(HttpCycle& cycle) noexcept {
  ctx().task_finished(cycle.task);
  if (!reset_ && !ended_ && !protocol_->closed() && protocol_->conn().writable(id_)) {
    protocol_->conn().reset(id_, http3::ErrorCode::kInternalError);
    protocol_->output_ready();
  }
  protocol_->stream_finished(id_);
}

void H3Stream::reset() noexcept {
  reset_ = true;
  release_waiter();
}

}  // namespace ruvicorn::py
