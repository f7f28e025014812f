// The QPACK decoder (RFC 9204 4.5) for a peer that may not use a dynamic table (our capacity is
// 0), and the readers of the client's encoder and decoder streams (4.3, 4.4).
#include <algorithm>

#include "hpack/integer.hpp"
#include "qpack/static_table.hpp"
#include "ruvicorn/qpack.hpp"

namespace ruvicorn::qpack {

namespace {

using hpack::decode_int;
using hpack::IntStatus;

DecodeError failed(std::string_view reason) { return {ErrorCode::kDecompressionFailed, reason}; }

DecodeError int_error(IntStatus s) {
  return failed(s == IntStatus::kTruncated ? "truncated integer" : "integer overflow");
}

}  // namespace

Decoder::Decoder(std::size_t max_section_size) : max_section_size_(max_section_size) {}

// One section's walk; the arena lives in the Decoder.
class SectionReader {
 public:
  SectionReader(Decoder& d, std::string_view section, std::vector<Header>& fields)
      : d_(d),
        p_(reinterpret_cast<const unsigned char*>(section.data())),
        end_(p_ + section.size()),
        fields_(fields) {}

  DecodeError run(bool& oversize) {
    if (DecodeError err = prefix()) return err;
    while (p_ < end_ && !over_) {
      const unsigned char b = *p_;
      DecodeError err;
      if (b & 0x80) {
        err = indexed();
      } else if ((b & 0xc0) == 0x40) {
        err = literal_with_name_reference();
      } else if ((b & 0xe0) == 0x20) {
        err = literal_with_literal_name();
      } else {
        // 0001xxxx and 0000xxxx: post-base references, which exist only for the dynamic table.
        err = failed("post-base reference without a dynamic table");
      }
      if (err) return err;
    }
    oversize = over_;
    return {};
  }

 private:
  // 4.5.1: Required Insert Count must be 0 when our capacity is 0 (4.5.1.1); a Sign bit of 1 is
  // invalid unless Required Insert Count exceeds Delta Base (4.5.1.2), so never here.
  DecodeError prefix() {
    if (p_ == end_) return failed("empty field section");
    std::uint64_t ric;
    if (auto s = decode_int(p_, end_, 8, ric); s != IntStatus::kOk) return int_error(s);
    if (ric != 0) return failed("Required Insert Count above 0 without a dynamic table");
    if (p_ == end_) return failed("truncated field section prefix");
    const bool sign = (*p_ & 0x80) != 0;
    std::uint64_t delta;
    if (auto s = decode_int(p_, end_, 7, delta); s != IntStatus::kOk) return int_error(s);
    if (sign) return failed("negative Base");
    return {};
  }

  DecodeError static_entry(std::uint64_t index, Header& h) const {
    if (index >= kStaticCount) return failed("static table index out of range");
    h = kStatic[index];
    return {};
  }

  // Adds a field if the section stays within the limit; else marks it oversize (nothing more is
  // read).
  bool room_for(std::size_t bytes) {
    const std::size_t need = bytes + kFieldOverhead;
    if (over_ || need > d_.max_section_size_ - size_) {
      over_ = true;
      return false;
    }
    return true;
  }
  void keep(std::string_view name, std::string_view value) {
    if (!room_for(name.size() + value.size())) return;
    size_ += name.size() + value.size() + kFieldOverhead;
    fields_.push_back({name, value});
  }

  // A string literal with its Huffman flag and an N-bit length prefix (4.1.2). Raw strings are
  // views of the section; Huffman strings are decoded into the arena, which holds at most what
  // the limit lets through (a string that would not fit makes the section oversize).
  DecodeError string(unsigned char huffman_flag, unsigned prefix_bits, std::string_view& out) {
    if (p_ == end_) return failed("truncated string");
    const bool huffman = (*p_ & huffman_flag) != 0;
    std::uint64_t len;
    if (auto s = decode_int(p_, end_, prefix_bits, len); s != IntStatus::kOk) return int_error(s);
    if (len > static_cast<std::size_t>(end_ - p_)) return failed("string longer than the section");
    const std::string_view in(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    if (!huffman) {
      out = in;
      return {};
    }
    const std::size_t left = d_.arena_size_ - d_.arena_used_;
    char* dst = d_.arena_.get() + d_.arena_used_;
    const std::size_t n = hpack::huffman_decode(in, dst, left);
    if (n == hpack::kHuffmanInvalid) return failed("invalid Huffman code");
    if (n > left) {
      over_ = true;  // the arena is as large as the limit: this string cannot be kept
      out = {};
      return {};
    }
    d_.arena_used_ += n;
    out = std::string_view(n ? dst : "", n);
    return {};
  }

  DecodeError indexed() {  // 4.5.2: 1 T index(6)
    const bool is_static = (*p_ & 0x40) != 0;
    std::uint64_t i;
    if (auto s = decode_int(p_, end_, 6, i); s != IntStatus::kOk) return int_error(s);
    if (!is_static) return failed("dynamic table reference without a dynamic table");
    Header h;
    if (DecodeError err = static_entry(i, h)) return err;
    keep(h.name, h.value);
    return {};
  }

  DecodeError literal_with_name_reference() {  // 4.5.4: 01 N T index(4), value
    const bool is_static = (*p_ & 0x10) != 0;
    std::uint64_t i;
    if (auto s = decode_int(p_, end_, 4, i); s != IntStatus::kOk) return int_error(s);
    if (!is_static) return failed("dynamic table reference without a dynamic table");
    Header h;
    if (DecodeError err = static_entry(i, h)) return err;
    std::string_view value;
    if (DecodeError err = string(0x80, 7, value)) return err;
    if (!over_) keep(h.name, value);
    return {};
  }

  DecodeError literal_with_literal_name() {  // 4.5.6: 001 N H length(3) name, value
    std::string_view name, value;
    if (DecodeError err = string(0x08, 3, name)) return err;
    if (over_) return {};
    if (DecodeError err = string(0x80, 7, value)) return err;
    if (!over_) keep(name, value);
    return {};
  }

  Decoder& d_;
  const unsigned char* p_;
  const unsigned char* const end_;
  std::vector<Header>& fields_;
  std::size_t size_ = 0;  // RFC 9114 4.2.2 size of the fields kept
  bool over_ = false;
};

DecodeError Decoder::decode(std::string_view section, std::vector<Header>& fields,
                            bool& oversize) {
  fields.clear();
  oversize = false;
  // Every Huffman string of the section fits an arena this large, or the section is oversize.
  const std::size_t need =
      std::min(hpack::huffman_max_decoded_size(section.size()), max_section_size_);
  if (need > arena_size_) {
    arena_ = std::make_unique<char[]>(need);
    arena_size_ = need;
  }
  arena_used_ = 0;
  SectionReader reader(*this, section, fields);
  return reader.run(oversize);
}

// --- the client's encoder and decoder streams ----------------------------------------------------

DecodeError EncoderStreamReader::feed(std::string_view data) {
  for (unsigned char b : data) {
    // 4.3.1: Set Dynamic Table Capacity (001xxxxx) to at most our maximum, 0: exactly 0x20.
    if (b == 0x20) continue;
    if ((b & 0xe0) == 0x20) {
      return {ErrorCode::kEncoderStreamError, "dynamic table capacity above our maximum of 0"};
    }
    return {ErrorCode::kEncoderStreamError, "insert or duplicate without a dynamic table"};
  }
  return {};
}

DecodeError DecoderStreamReader::feed(std::string_view data) {
  // Only Stream Cancellation (4.4.2: 01 stream id(6)) is valid; parse each to its end.
  constexpr std::size_t kLongest = 1 + hpack::kMaxContinuationBytes;
  while (!data.empty()) {
    const std::size_t take = std::min(data.size(), kLongest + 1 - partial_.size());
    partial_.append(data.data(), take);
    data.remove_prefix(take);
    const auto* start = reinterpret_cast<const unsigned char*>(partial_.data());
    const unsigned char* p = start;
    const unsigned char* const end = p + partial_.size();
    while (p < end) {
      const unsigned char b = *p;
      if (b & 0x80) {
        return {ErrorCode::kDecoderStreamError,
                "Section Acknowledgment for a section without dynamic references"};
      }
      if ((b & 0x40) == 0) {
        return {ErrorCode::kDecoderStreamError, "Insert Count Increment without inserts"};
      }
      const unsigned char* q = p;
      std::uint64_t stream;
      const IntStatus s = decode_int(q, end, 6, stream);
      if (s == IntStatus::kOverflow) return {ErrorCode::kDecoderStreamError, "integer overflow"};
      if (s == IntStatus::kTruncated) break;
      p = q;
    }
    partial_.erase(0, static_cast<std::size_t>(p - start));
    if (partial_.size() > kLongest) return {ErrorCode::kDecoderStreamError, "integer overflow"};
  }
  return {};
}

}  // namespace ruvicorn::qpack
