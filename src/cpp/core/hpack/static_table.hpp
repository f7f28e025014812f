// The HPACK static table (RFC 7541 Appendix A) and the encoder's lookups in it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruvicorn/header.hpp"

namespace ruvicorn::hpack {

inline constexpr std::size_t kStaticCount = 61;

// Entry i at kStatic[i] (1-based: index 0 is invalid in HPACK and empty here).
inline constexpr Header kStatic[kStaticCount + 1] = {
    {"", ""},
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};

// Where `name` and `value` are in the static table: `exact` is the index of the entry with both
// (0: none), `name_index` the first entry with the name (0: none) (util/static_index.hpp).
struct StaticMatch {
  std::size_t exact = 0;
  std::size_t name_index = 0;
};
StaticMatch static_find(std::string_view name, std::string_view value);

}  // namespace ruvicorn::hpack
