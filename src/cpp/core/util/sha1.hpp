// SHA-1 (FIPS 180-4, section 6.1), only for the WebSocket handshake (RFC 6455 4.2.2), where it is
// a fixed transform and not a security primitive.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ruvicorn {

class Sha1 {
 public:
  using Digest = std::array<std::uint8_t, 20>;

  Sha1();
  void update(std::string_view data);
  Digest finish();  // the object must not be updated afterwards

 private:
  void block(const std::uint8_t* p);

  std::uint32_t h_[5];
  std::uint8_t pending_[64];
  std::size_t pending_len_ = 0;
  std::uint64_t total_ = 0;  // message length in bytes
};

Sha1::Digest sha1(std::string_view data);

}  // namespace ruvicorn
