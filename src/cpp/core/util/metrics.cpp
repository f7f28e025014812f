#include "ruvicorn/metrics.hpp"

#include <chrono>


namespace ruvicorn::metrics {

const std::uint64_t kBucketBoundsNs[kBuckets] = {
    1'000,         2'500,         5'000,         10'000,        25'000,        50'000,
    100'000,       250'000,       500'000,       1'000'000,     2'500'000,     5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

std::uint64_t now_ns() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

void Histogram::observe(std::uint64_t ns) {
  std::size_t i = 0;
  while (i < kBuckets && ns > kBucketBoundsNs[i]) ++i;  // le: the bound itself is inside
  buckets[i].add();
  sum_ns.add(ns);
}

namespace {

void fold_histogram(Histogram& into, const Histogram& from) {
  for (std::size_t i = 0; i <= kBuckets; ++i) into.buckets[i].add(from.buckets[i].get());
  into.sum_ns.add(from.sum_ns.get());
}

}  // namespace

void fold(Totals& into, const Totals& from) {
  for (std::size_t p = 0; p < kProtocols; ++p) {
    for (std::size_t m = 0; m < kMethods; ++m) {
      for (std::size_t s = 0; s < kStatuses; ++s) {
        into.requests[p][m][s].add(from.requests[p][m][s].get());
      }
    }
    fold_histogram(into.duration[p], from.duration[p]);
    fold_histogram(into.dispatch[p], from.dispatch[p]);
    fold_histogram(into.respond[p], from.respond[p]);
  }
  for (std::size_t e = 0; e < kErrorKinds; ++e) into.errors[e].add(from.errors[e].get());
  for (std::size_t c = 0; c < kH2ErrorCodes; ++c) into.h2_errors[c].add(from.h2_errors[c].get());
}

MethodClass method_class(std::string_view method) {
  switch (method.size()) {
    case 3:
      if (method == "GET") return kGet;
      if (method == "PUT") return kPut;
      break;
    case 4:
      if (method == "HEAD") return kHead;
      if (method == "POST") return kPost;
      break;
    case 5:
      if (method == "PATCH") return kPatch;
      break;
    case 6:
      if (method == "DELETE") return kDelete;
      break;
    case 7:
      if (method == "OPTIONS") return kOptions;
      break;
    default:
      break;
  }
  return kOtherMethod;  // methods are case-sensitive (RFC 9110 9.1): "get" is another method
}

StatusClass status_class(int status) {
  if (status <= 0) return kNoResponse;
  switch (status / 100) {
    case 1: return k1xx;
    case 2: return k2xx;
    case 3: return k3xx;
    case 4: return k4xx;
    default: return k5xx;  // the ASGI app may send up to 999; 6xx-9xx count as server errors
  }
}

ErrorKind error_kind(const HttpError& error) {
  if (error.smuggling) return kSmuggling;
  switch (error.status) {
    case 400: return kBadRequest;
    case 408: return kHeadTimeout;
    case 413: return kBodyTooLarge;
    case 414: return kUriTooLong;
    case 431: return kHeadersTooLarge;
    case 501:
    case 505: return kNotImplemented;
    case 503: return kOverloaded;
    default: return kOtherError;
  }
}

std::string_view protocol_label(Protocol p) {
  static constexpr std::string_view kLabels[kProtocols] = {"1.0", "1.1", "2", "3"};
  return kLabels[p];
}

std::string_view method_label(MethodClass m) {
  static constexpr std::string_view kLabels[kMethods] = {"GET",    "HEAD",    "POST",  "PUT",
                                                         "PATCH",  "DELETE",  "OPTIONS", "other"};
  return kLabels[m];
}

std::string_view status_label(StatusClass s) {
  static constexpr std::string_view kLabels[kStatuses] = {"1xx", "2xx", "3xx",
                                                          "4xx", "5xx", "none"};
  return kLabels[s];
}

std::string_view error_label(ErrorKind e) {
  static constexpr std::string_view kLabels[kErrorKinds] = {
      "bad_request",   "smuggling",       "head_timeout",    "body_too_large", "uri_too_long",
      "headers_too_large", "not_implemented", "overloaded", "other"};
  return kLabels[e];
}

std::string_view connection_label(ConnectionKind c) {
  static constexpr std::string_view kLabels[kConnectionKinds] = {"1.1", "2", "3"};
  return kLabels[c];
}

}  // namespace ruvicorn::metrics
