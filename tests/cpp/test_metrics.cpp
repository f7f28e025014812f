// The metrics the core counts: label classes, the histogram's bucket bounds (Prometheus `le`),
// folding a retired worker's totals, and the smuggling flag on framing refusals (both parsers).
#include <string>

#include "check.hpp"
#include "ruvicorn/connection.hpp"
#include "ruvicorn/metrics.hpp"

using namespace ruvicorn;
using namespace ruvicorn::metrics;

namespace {

struct ErrorRecorder : http1::ConnectionHandler {
  HttpError error;
  void on_request(const http1::Request&) override {}
  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_error(const HttpError& e) override { error = e; }
};

HttpError first_error(http1::ParserKind kind, std::string_view input, const Limits& limits = {}) {
  http1::Connection c(limits, kind);
  ErrorRecorder r;
  c.feed(input, r);
  return r.error;
}

std::uint64_t count(const Histogram& h) {
  std::uint64_t n = 0;
  for (const Cell& b : h.buckets) n += b.get();
  return n;
}

}  // namespace

TEST(method_classes) {
  CHECK_EQ(method_class("GET"), kGet);
  CHECK_EQ(method_class("HEAD"), kHead);
  CHECK_EQ(method_class("POST"), kPost);
  CHECK_EQ(method_class("PUT"), kPut);
  CHECK_EQ(method_class("PATCH"), kPatch);
  CHECK_EQ(method_class("DELETE"), kDelete);
  CHECK_EQ(method_class("OPTIONS"), kOptions);
  CHECK_EQ(method_class("get"), kOtherMethod);  // methods are case-sensitive
  CHECK_EQ(method_class("PROPFIND"), kOtherMethod);
  CHECK_EQ(method_label(kOtherMethod), std::string_view("other"));
}

TEST(status_classes) {
  CHECK_EQ(status_class(0), kNoResponse);
  CHECK_EQ(status_class(101), k1xx);
  CHECK_EQ(status_class(204), k2xx);
  CHECK_EQ(status_class(308), k3xx);
  CHECK_EQ(status_class(499), k4xx);
  CHECK_EQ(status_class(500), k5xx);
  CHECK_EQ(status_class(999), k5xx);
  CHECK_EQ(status_label(kNoResponse), std::string_view("none"));
}

TEST(histogram_bounds_are_inclusive) {
  Histogram h;
  h.observe(0);
  h.observe(1'000);          // exactly 1 µs: the first bucket (le="1e-06")
  h.observe(1'001);          // the second
  h.observe(10'000'000'000); // exactly 10 s: the last finite bucket
  h.observe(10'000'000'001); // +Inf
  CHECK_EQ(h.buckets[0].get(), 2u);
  CHECK_EQ(h.buckets[1].get(), 1u);
  CHECK_EQ(h.buckets[kBuckets - 1].get(), 1u);
  CHECK_EQ(h.buckets[kBuckets].get(), 1u);
  CHECK_EQ(count(h), 5u);
  CHECK_EQ(h.sum_ns.get(), 20'000'002'002u);
}

TEST(bucket_bounds_increase) {
  for (std::size_t i = 1; i < kBuckets; ++i) CHECK(kBucketBoundsNs[i] > kBucketBoundsNs[i - 1]);
}

TEST(fold_adds_every_total) {
  Totals a, b;
  a.requests[kHttp11][kGet][k2xx].add(3);
  b.requests[kHttp11][kGet][k2xx].add(4);
  b.requests[kHttp2][kPost][k5xx].add(1);
  b.duration[kHttp2].observe(5'000);
  b.respond[kHttp10].observe(5'000);
  b.dispatch[kHttp3].observe(5'000);
  b.errors[kSmuggling].add(2);
  b.h2_errors[1].add(6);
  fold(a, b);
  CHECK_EQ(a.requests[kHttp11][kGet][k2xx].get(), 7u);
  CHECK_EQ(a.requests[kHttp2][kPost][k5xx].get(), 1u);
  CHECK_EQ(count(a.duration[kHttp2]), 1u);
  CHECK_EQ(a.duration[kHttp2].sum_ns.get(), 5'000u);
  CHECK_EQ(count(a.respond[kHttp10]), 1u);
  CHECK_EQ(count(a.dispatch[kHttp3]), 1u);
  CHECK_EQ(a.errors[kSmuggling].get(), 2u);
  CHECK_EQ(a.h2_errors[1].get(), 6u);
  CHECK_EQ(b.requests[kHttp11][kGet][k2xx].get(), 4u);  // the source is left as it was
}

TEST(error_kinds) {
  CHECK_EQ(error_kind(HttpError{400, "x", true}), kBadRequest);
  CHECK_EQ(error_kind(HttpError{400, "x", true, true}), kSmuggling);
  CHECK_EQ(error_kind(HttpError{408, "x", true}), kHeadTimeout);
  CHECK_EQ(error_kind(HttpError{413, "x", true}), kBodyTooLarge);
  CHECK_EQ(error_kind(HttpError{414, "x", true}), kUriTooLong);
  CHECK_EQ(error_kind(HttpError{431, "x", true}), kHeadersTooLarge);
  CHECK_EQ(error_kind(HttpError{505, "x", true}), kNotImplemented);
  CHECK_EQ(error_kind(HttpError{503, "x", true}), kOverloaded);
  CHECK_EQ(error_kind(HttpError{502, "x", true}), kOtherError);
}

TEST(framing_refusals_are_marked_as_smuggling) {
  for (auto kind : {http1::ParserKind::kPico, http1::ParserKind::kLlhttp}) {
    const char* smuggled[] = {
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (const char* input : smuggled) {
      HttpError e = first_error(kind, input);
      CHECK_EQ(e.status, 400);
      CHECK(e.smuggling);
    }
    HttpError plain = first_error(kind, "GET / HTTP/1.1\r\n\r\n");  // no Host: a plain 400
    CHECK_EQ(plain.status, 400);
    CHECK(!plain.smuggling);
    Limits small;
    small.max_body_size = 2;
    HttpError large = first_error(kind, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
                                  small);
    CHECK_EQ(error_kind(large), kBodyTooLarge);
  }
}

CHECK_MAIN()
