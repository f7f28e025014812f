#include "util/response_common.hpp"

#include "ruvicorn/date_cache.hpp"

namespace ruvicorn {

namespace {
int error_status(const HttpError& error) { return error.status ? error.status : 500; }
}  // namespace

std::string_view http_date_now() {
  static thread_local DateCache cache;  // refreshed at most once a second
  return cache.now();
}

std::size_t error_body_size(const HttpError& error) {
  return status_reason(error_status(error)).size() +
         (error.reason.empty() ? 0 : 2 + error.reason.size());
}

void append_error_body(const HttpError& error, std::string& out) {
  out.append(status_reason(error_status(error)));
  if (!error.reason.empty()) {
    out.append(": ");
    out.append(error.reason);
  }
}

}  // namespace ruvicorn
