// A field section as HTTP/2 and HTTP/3 send it (a response head, trailers, a 1xx): the app's
// fields validated and lower-cased as they come, connection-specific ones dropped (RFC 9113 8.2.2,
// RFC 9114 4.2), content-length taken out and recorded. Sections are kept until complete and then
// encoded in one go (HPACK's table changes as a block is encoded; a section is sent whole or not
// at all), so an invalid field leaves nothing half-written.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruvicorn/error.hpp"
#include "ruvicorn/response.hpp"
#include "util/response_common.hpp"

namespace ruvicorn {

class FieldSection {
 public:
  void clear();
  // clear(), freeing a buffer that grew above `max_bytes`: a busy connection keeps the rest for
  // its next section.
  void clear_within(std::size_t max_bytes);
  // clear() and give the buffers' memory back to the thread's pools (ruvicorn/buffer_pool.hpp):
  // an idle connection keeps none; the next add() takes pooled ones.
  void release_memory();
  // One field of the app. `response_head`: a final response head (content-length is recorded,
  // Server/Date/Alt-Svc overrides noted); otherwise trailers or a 1xx, where framing fields are
  // dropped. Errors are app errors (500).
  HttpError add(std::string_view name, std::string_view value, bool response_head);
  // A field that was validated before (trailers kept behind queued data).
  void add_valid(std::string_view name, std::string_view value);

  template <typename Fn>
  void for_each(Fn&& fn) const {
    std::size_t pos = 0;
    const std::string_view arena = arena_;
    for (const auto& [name_len, value_len] : fields_) {
      fn(arena.substr(pos, name_len), arena.substr(pos + name_len, value_len));
      pos += name_len + value_len;
    }
  }

  std::uint64_t length = 0;
  bool has_length = false;
  BuiltinOverrides app;  // the app's own Server, Date, Alt-Svc

 private:
  void take_memory();  // pooled buffers for a section that has none
  std::string arena_;  // lower-cased names and values, back to back
  std::vector<std::pair<std::size_t, std::size_t>> fields_;  // (name length, value length)
};

// The configured default headers (--header) with their names lower-cased once per connection.
struct LowerCaseDefaults {
  explicit LowerCaseDefaults(const ResponseConfig& config);
  std::vector<std::pair<std::string, std::string>> fields;
  BuiltinOverrides overrides;  // a default Server/Date/Alt-Svc replaces the built-in one
};

// Calls fn(name, value) for every field of a final response head in the order they go out: the
// built-in ones (util/response_common.hpp), the defaults, the app's, and content-length (not for
// 204, RFC 9110 8.6). `app` is normally section.app (a protocol may add to it).
template <typename Fn>
void for_each_head_field(const ResponseConfig& config, const LowerCaseDefaults& defaults,
                         const FieldSection& section, BuiltinOverrides app, int status,
                         Fn&& fn) {
  for_each_builtin_field(config, defaults.overrides, app, fn);
  for (const auto& [name, value] : defaults.fields) fn(name, value);
  section.for_each(fn);
  if (section.has_length && status != 204) {
    char digits[24];
    fn("content-length", decimal(section.length, digits));
  }
}

}  // namespace ruvicorn
