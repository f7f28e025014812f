// The HPACK encoder (RFC 7541 6) for responses, and its indexing policy.
#include <algorithm>
#include <charconv>
#include <functional>

#include "hpack/integer.hpp"
#include "hpack/literal.hpp"
#include "hpack/static_table.hpp"
#include "ruvicorn/hpack.hpp"

namespace ruvicorn::hpack {

namespace {

constexpr std::size_t kNotFound = SIZE_MAX;
constexpr std::size_t kInitialPeerTable = 4096;  // SETTINGS_HEADER_TABLE_SIZE default

enum class Indexing { kIncremental, kWithout, kNever };

// Which representation a field gets (RFC 7541 6.2, 7.1):
// - never indexed (6.2.3): set-cookie, cookie, authorization, proxy-authorization. Secrets: a
//   table entry would let a later guess be confirmed by its compressed size (7.1.2), and the
//   never-indexed bit tells intermediaries not to index them either (7.1.3).
// - without indexing (6.2.2): content-length, whose value follows the body and so changes from
//   response to response (a few digits cost 3-4 bytes as a literal; indexing each value would
//   push out entries that do repeat), request/trace ids, unique by design, and fields whose
//   entry would take over 3/4 of the table (they would evict nearly everything else).
// - incremental indexing (6.2.1): everything else, date included. The date changes at most
//   once a second; every response in that second then refers to it in one byte, and each new
//   second's entry (about 65 bytes) pushes out one old one. The table is a window over recent
//   insertions, so fields that recur are re-sent as literals at most once per table's worth of
//   insertions (about a minute of dates at 4096 bytes).
Indexing policy(std::string_view name, std::size_t entry_size, std::size_t table_max) {
  switch (name.size()) {
    case 6:
      if (name == "cookie") return Indexing::kNever;
      break;
    case 10:
      if (name == "set-cookie") return Indexing::kNever;
      break;
    case 11:
      if (name == "traceparent") return Indexing::kWithout;
      break;
    case 12:
      if (name == "x-request-id") return Indexing::kWithout;
      break;
    case 13:
      if (name == "authorization") return Indexing::kNever;
      break;
    case 14:
      if (name == "content-length") return Indexing::kWithout;
      break;
    case 19:
      if (name == "proxy-authorization") return Indexing::kNever;
      break;
    default:
      break;
  }
  if (entry_size > table_max / 4 * 3) return Indexing::kWithout;
  return Indexing::kIncremental;
}

// A string literal (RFC 7541 5.2), Huffman-coded when that is shorter.
void write_string(std::string& out, std::string_view s) { encode_string(out, 0x00, 0x80, 7, s); }

std::uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }
std::uint64_t field_hash_of(std::uint64_t name_hash, std::string_view value) {
  return name_hash ^ (hash_of(value) * 0x9e3779b97f4a7c15u);
}

}  // namespace

Encoder::Encoder(std::size_t table_size)
    : table_(std::min(table_size, kInitialPeerTable)), table_size_(table_size) {
  if (table_.max_size() != kInitialPeerTable) pending_update_ = min_update_ = table_.max_size();
}

void Encoder::set_peer_table_size(std::size_t size) {
  const std::size_t effective = std::min(size, table_size_);
  if (effective == table_.max_size() && pending_update_ == SIZE_MAX) return;
  table_.set_max_size(effective);
  pending_update_ = effective;
  min_update_ = std::min(min_update_, effective);
}

void Encoder::begin(std::string& out) {
  if (pending_update_ == SIZE_MAX) return;
  // RFC 7541 4.2: the smallest size since the last block, then the final one.
  if (min_update_ < pending_update_) encode_int(out, 0x20, 5, min_update_);
  encode_int(out, 0x20, 5, pending_update_);
  pending_update_ = min_update_ = SIZE_MAX;
}

void Encoder::status(int code, std::string& out) {
  unsigned index = 0;
  switch (code) {  // the static table's :status entries (RFC 7541 Appendix A, 8-14)
    case 200: index = 8; break;
    case 204: index = 9; break;
    case 206: index = 10; break;
    case 304: index = 11; break;
    case 400: index = 12; break;
    case 404: index = 13; break;
    case 500: index = 14; break;
    default: break;
  }
  if (index != 0) {
    out.push_back(static_cast<char>(0x80 | index));
    return;
  }
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, code).ptr;
  field(":status", std::string_view(digits, static_cast<std::size_t>(end - digits)), out);
}

std::size_t Encoder::find(const Slot* bucket, std::uint64_t hash, std::string_view name,
                          const std::string_view* value) const {
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t k = 0; k < kWays; ++k) {
    const Slot& slot = bucket[k];
    if (slot.id == 0 || slot.hash != tag) continue;
    const std::size_t age = inserted_ - slot.id;  // insertions since: the entry's index
    if (age >= table_.count()) continue;          // evicted
    const Header e = table_.at(age);
    if (e.name == name && (value == nullptr || e.value == *value)) return age;
  }
  return kNotFound;
}

void Encoder::scan(std::string_view name, std::string_view value, std::size_t& field,
                   std::size_t& name_only) const {
  for (std::size_t age = 0; age < table_.count(); ++age) {  // newest first
    const Header e = table_.at(age);
    if (e.name != name) continue;
    if (e.value == value) {
      field = age;
      return;
    }
    if (name_only == kNotFound) name_only = age;
  }
}

void Encoder::remember(Slot* bucket, std::uint64_t hash, std::uint32_t id) {
  // The entry takes an empty or evicted slot, else the oldest one.
  Slot* victim = bucket;
  for (std::size_t k = 0; k < kWays; ++k) {
    const std::uint32_t age = inserted_ - bucket[k].id;
    if (bucket[k].id == 0 || age >= table_.count()) {
      victim = &bucket[k];
      break;
    }
    if (age > static_cast<std::uint32_t>(inserted_ - victim->id)) victim = &bucket[k];
  }
  *victim = {static_cast<std::uint32_t>(hash >> 32), id};
}

void Encoder::resize_caches(std::size_t buckets) {
  buckets_ = buckets;
  slots_ = std::make_unique<Slot[]>(2 * buckets * kWays);
  for (std::size_t age = table_.count(); age-- > 0;) {  // oldest first: the newest win
    const Header e = table_.at(age);
    const std::uint64_t name_hash = hash_of(e.name);
    const std::uint64_t field_hash = field_hash_of(name_hash, e.value);
    const std::uint32_t id = inserted_ - static_cast<std::uint32_t>(age);
    remember(field_bucket(field_hash), field_hash, id);
    remember(name_bucket(name_hash), name_hash, id);
  }
}

void Encoder::field(std::string_view name, std::string_view value, std::string& out) {
  const Indexing how = policy(name, name.size() + value.size() + kEntryOverhead, table_.max_size());
  const StaticMatch in_static = static_find(name, value);
  if (in_static.exact != 0) {
    encode_int(out, 0x80, 7, in_static.exact);  // indexed field (6.1)
    return;
  }
  std::size_t name_index = in_static.name_index;
  std::uint64_t name_hash = 0;
  std::uint64_t field_hash = 0;
  if (how != Indexing::kNever) {  // secrets never enter the table, so never match in it
    name_hash = hash_of(name);
    field_hash = field_hash_of(name_hash, value);
    std::size_t i = kNotFound, n = kNotFound;
    if (slots_) {
      i = find(field_bucket(field_hash), field_hash, name, &value);
      if (i == kNotFound && name_index == 0)
        n = find(name_bucket(name_hash), name_hash, name, nullptr);
    } else {
      scan(name, value, i, n);
    }
    if (i != kNotFound) {
      encode_int(out, 0x80, 7, kStaticCount + 1 + i);
      return;
    }
    if (name_index == 0 && n != kNotFound) name_index = kStaticCount + 1 + n;
  }
  switch (how) {
    case Indexing::kIncremental: encode_int(out, 0x40, 6, name_index); break;
    case Indexing::kWithout: encode_int(out, 0x00, 4, name_index); break;
    case Indexing::kNever: encode_int(out, 0x10, 4, name_index); break;
  }
  if (name_index == 0) write_string(out, name);
  write_string(out, value);
  if (how != Indexing::kIncremental) return;
  table_.add(name, value);  // fits: the policy indexes nothing over 3/4 of the table
  ++inserted_;
  if (!slots_) {
    if (table_.count() > kWays) resize_caches(kFirstBuckets);  // remembers every entry
    return;
  }
  if (table_.count() > buckets_ * kWays / 2 && buckets_ < kMaxBuckets) {
    resize_caches(2 * buckets_);  // remembers the new entry too
    return;
  }
  remember(field_bucket(field_hash), field_hash, inserted_);
  remember(name_bucket(name_hash), name_hash, inserted_);
}

}  // namespace ruvicorn::hpack
