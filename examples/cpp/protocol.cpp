#include "protocol.hpp"

#include "h2_session.hpp"
#include "ruvicorn/http2.hpp"
#include "session.hpp"

namespace example {

void Dispatch::received(std::string_view data) {
  if (chosen_) {
    chosen_->received(data);
    return;
  }
  first_.append(data);
  const std::string_view preface = ruvicorn::http2::kPreface;
  const std::size_t n = first_.size() < preface.size() ? first_.size() : preface.size();
  if (first_.compare(0, n, preface.substr(0, n)) == 0 && n < preface.size()) return;  // wait
  choose();
}

void Dispatch::choose() {
  const std::string_view preface = ruvicorn::http2::kPreface;
  if (first_.compare(0, preface.size(), preface) == 0) {
    chosen_ = std::make_unique<H2Session>(limits_, response_config_);
  } else {
    chosen_ = std::make_unique<Session>(limits_, parser_, response_config_);
  }
  std::string first;
  first.swap(first_);
  chosen_->received(first);
}

void Dispatch::peer_closed() {
  if (!chosen_ && !first_.empty()) choose();  // a short request that is a prefix of the preface
  if (chosen_) chosen_->peer_closed();
  else closed_ = true;
}

void Dispatch::timed_out() {
  if (!chosen_ && !first_.empty()) choose();
  if (chosen_) chosen_->timed_out();
  else closed_ = true;
}

}  // namespace example
