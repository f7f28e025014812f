#include "h3_stream.hpp"

#include <utility>

#include "cycle.hpp"
#include "h3_protocol.hpp"
#include "pyutil.hpp"

namespace ruvicorn::py {

H3Stream::H3Stream(H3Protocol& protocol, pb::object owner, std::uint64_t id, bool head_request)
    : StreamSink(protocol, std::move(owner), id, head_request) {}

http3::Connection& H3Stream::conn() { return protocol_->conn(); }

bool H3Stream::gone() const {
  return reset_ || protocol_->closed() || !protocol_->conn().writable(id_);
}

HttpError H3Stream::send_data(std::string_view data, bool end_stream) {
  if (HttpError err = protocol_->conn().data(id_, data, end_stream)) return err;
  queued_ += data.size();
  return {};
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

void H3Stream::consumed(std::size_t n) {
  if (n == 0) return;
  protocol_->conn().consume(id_, n);
  protocol_->maybe_resume();
}

void H3Stream::response_done(HttpCycle& cycle) {
  // The protocol's datagrams go out at the end of this loop iteration: count it done now.
  metrics_response_done(ctx(), nullptr, cycle);
}

void H3Stream::cycle_ended(HttpCycle& cycle) noexcept {
  ctx().task_finished(cycle.task);
  if (!reset_ && !ended_ && !protocol_->closed() && protocol_->conn().writable(id_)) {
    protocol_->conn().reset(id_, http3::ErrorCode::kInternalError);
    protocol_->output_ready();
  }
  protocol_->stream_finished(id_);
}

}  // namespace ruvicorn::py
