#include "weights_import/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <set>

#include "core/error.h"
#include "weights_import/byte_reader.h"

namespace gler::wi {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30;
// Deflate cannot expand more than ~1032:1, so a larger declared size is a lie (a zip bomb).
constexpr std::uint64_t kMaxDeflateRatio = 1032;

struct Directory {
  std::uint64_t count = 0, offset = 0, size = 0;
};

std::size_t find_end_record(const std::uint8_t* data, std::size_t size) {
  GLER_CHECK(size >= kEndSize, "zip: file of " << size << " bytes is too small for an archive");
  std::size_t lowest = size - kEndSize > 0xFFFF ? size - kEndSize - 0xFFFF : 0;
  for (std::size_t p = size - kEndSize + 1; p-- > lowest;) {
    ByteReader r(data + p, size - p, "zip end record");
    if (r.u32() != kEndSig) continue;
    r.skip(16);
    if (p + kEndSize + r.u16() == size) return p;  // the comment must end the file
  }
  GLER_FAIL("zip: no end-of-central-directory record (not a zip file, or truncated)");
}

Directory read_directory_location(const std::uint8_t* data, std::size_t size, std::size_t end_pos) {
  ByteReader r(data, size, "zip end record");
  r.seek(end_pos + 4);
  std::uint16_t disk = r.u16(), cd_disk = r.u16();
  std::uint16_t n_here = r.u16(), n_total = r.u16();
  Directory d{n_total, 0, 0};
  d.size = r.u32();
  d.offset = r.u32();
  GLER_CHECK(disk == 0 && cd_disk == 0 && n_here == n_total, "zip: multi-disk archives are not supported");
  bool zip64 = n_total == 0xFFFF || d.size == 0xFFFFFFFF || d.offset == 0xFFFFFFFF;
  if (zip64 || (end_pos >= 20 && ByteReader(data + end_pos - 20, 4, "zip").u32() == kZip64LocatorSig)) {
    GLER_CHECK(end_pos >= 20, "zip: zip64 end record locator missing");
    r.seek(end_pos - 20);
    GLER_CHECK(r.u32() == kZip64LocatorSig, "zip: zip64 end record locator missing");
    r.skip(4);
    std::uint64_t rec = r.u64();
    GLER_CHECK(rec < end_pos, "zip: zip64 end record offset " << rec << " is out of range");
    r.seek(rec);
    GLER_CHECK(r.u32() == kZip64EndSig, "zip: bad zip64 end record signature at " << rec);
    r.skip(8 + 2 + 2 + 4 + 4);
    std::uint64_t n64_here = r.u64();
    d.count = r.u64();
    d.size = r.u64();
    d.offset = r.u64();
    GLER_CHECK(n64_here == d.count, "zip: multi-disk archives are not supported");
  }
  GLER_CHECK(d.offset <= end_pos && d.size <= end_pos - d.offset,
             "zip: central directory (offset " << d.offset << ", " << d.size << " bytes) lies outside the archive");
  GLER_CHECK(d.count <= d.size / kCentralSize, "zip: central directory claims " << d.count << " entries in " << d.size
                                                                                << " bytes");
  return d;
}

// Replaces the 32-bit fields that are saturated with their zip64 extra-field values.
void apply_zip64_extra(ByteReader extra, ZipEntry& e, std::uint64_t& local_offset, bool need_size, bool need_csize,
                       bool need_offset) {
  while (extra.remaining() >= 4) {
    std::uint16_t id = extra.u16(), len = extra.u16();
    extra.need(len);
    if (id != 0x0001) {
      extra.skip(len);
      continue;
    }
    ByteReader f(extra.take(len), len, "zip64 extra field");
    if (need_size) e.size = f.u64();
    if (need_csize) e.compressed_size = f.u64();
    if (need_offset) local_offset = f.u64();
    return;
  }
  GLER_CHECK(!(need_size || need_csize || need_offset), "zip: entry '" << e.name << "' lacks its zip64 extra field");
}

}  // namespace

bool ZipReader::looks_like_zip(const std::uint8_t* data, std::size_t size) {
  return size >= 4 && ByteReader(data, size, "zip").u32() == kLocalSig;
}

ZipReader::ZipReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {
  std::size_t end_pos = find_end_record(data, size);
  Directory dir = read_directory_location(data, size, end_pos);
  ByteReader cd(data + dir.offset, static_cast<std::size_t>(dir.size), "zip central directory");
  ByteReader file(data, size, "zip");
  struct Span {
    std::uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;
  std::set<std::string_view> names;
  entries_.reserve(static_cast<std::size_t>(dir.count));
  for (std::uint64_t i = 0; i < dir.count; ++i) {
    GLER_CHECK(cd.u32() == kCentralSig, "zip: bad central directory signature in entry " << i);
    cd.skip(4);
    std::uint16_t flags = cd.u16();
    ZipEntry e;
    e.method = cd.u16();
    cd.skip(4);
    e.crc32 = cd.u32();
    e.compressed_size = cd.u32();
    e.size = cd.u32();
    std::uint16_t name_len = cd.u16(), extra_len = cd.u16(), comment_len = cd.u16();
    cd.skip(8);
    std::uint64_t local_offset = cd.u32();
    e.name = std::string(cd.take_str(name_len));
    ByteReader extra(cd.take(extra_len), extra_len, "zip extra field");
    cd.skip(comment_len);
    apply_zip64_extra(extra, e, local_offset, e.size == 0xFFFFFFFF, e.compressed_size == 0xFFFFFFFF,
                      local_offset == 0xFFFFFFFF);
    GLER_CHECK(!(flags & 1), "zip: entry '" << e.name << "' is encrypted");
    GLER_CHECK(e.method == 0 || e.method == 8,
               "zip: entry '" << e.name << "' uses compression method " << e.method << " (expected stored or deflate)");
    GLER_CHECK(e.method != 0 || e.size == e.compressed_size,
               "zip: stored entry '" << e.name << "' has size " << e.size << " but " << e.compressed_size
                                     << " bytes of data");
    GLER_CHECK(local_offset < dir.offset && dir.offset - local_offset >= kLocalSize,
               "zip: entry '" << e.name << "' has its header at " << local_offset << ", outside the data area");
    file.seek(local_offset);
    GLER_CHECK(file.u32() == kLocalSig, "zip: bad local header signature for entry '" << e.name << "'");
    file.skip(22);
    std::uint16_t local_name = file.u16(), local_extra = file.u16();
    file.skip(static_cast<std::uint64_t>(local_name) + local_extra);
    e.data_offset = file.pos();
    GLER_CHECK(e.data_offset <= dir.offset && e.compressed_size <= dir.offset - e.data_offset,
               "zip: data of entry '" << e.name << "' (" << e.compressed_size << " bytes at " << e.data_offset
                                      << ") runs past the data area");
    entries_.push_back(std::move(e));
    spans.push_back({local_offset, entries_.back().data_offset + entries_.back().compressed_size, nullptr});
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    spans[i].name = &entries_[i].name;
    GLER_CHECK(names.insert(entries_[i].name).second, "zip: duplicate entry '" << entries_[i].name << "'");
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < spans.size(); ++i)
    GLER_CHECK(spans[i].begin >= spans[i - 1].end,
               "zip: entries '" << *spans[i - 1].name << "' and '" << *spans[i].name << "' overlap");
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

static void check_crc(const ZipEntry& e, const std::uint8_t* p, std::uint64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<std::uint64_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  GLER_CHECK(crc == e.crc32, "zip: CRC mismatch in entry '" << e.name << "' (corrupt archive)");
}

std::span<const std::uint8_t> ZipReader::stored(const ZipEntry& e) const {
  GLER_CHECK(e.method == 0, "zip: entry '" << e.name << "' is compressed; expected a stored entry");
  const std::uint8_t* p = data_ + e.data_offset;
  check_crc(e, p, e.size);
  return {p, static_cast<std::size_t>(e.size)};
}

std::vector<std::uint8_t> ZipReader::read(const ZipEntry& e) const {
  if (e.method == 0) {
    auto s = stored(e);
    return {s.begin(), s.end()};
  }
  GLER_CHECK(e.size <= e.compressed_size * kMaxDeflateRatio + 1024,
             "zip: entry '" << e.name << "' claims " << e.size << " bytes from " << e.compressed_size
                            << " compressed bytes (impossible for deflate)");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(e.size));
  z_stream z{};
  GLER_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, "zip: zlib initialisation failed");
  std::uint64_t in_left = e.compressed_size, out_left = e.size;
  const std::uint8_t* in = data_ + e.data_offset;
  int rc = Z_OK;
  while (rc == Z_OK) {
    uInt in_chunk = static_cast<uInt>(std::min<std::uint64_t>(in_left, 1u << 30));
    uInt out_chunk = static_cast<uInt>(std::min<std::uint64_t>(out_left, 1u << 30));
    z.next_in = const_cast<Bytef*>(in + (e.compressed_size - in_left));
    z.avail_in = in_chunk;
    z.next_out = out.data() + (e.size - out_left);
    z.avail_out = out_chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    out_left -= out_chunk - z.avail_out;
    if (rc == Z_BUF_ERROR && (in_left == 0 || out_left == 0)) break;
    if (rc == Z_OK && in_chunk == z.avail_in && out_chunk == z.avail_out) break;  // no progress
  }
  inflateEnd(&z);
  GLER_CHECK(rc == Z_STREAM_END && out_left == 0,
             "zip: entry '" << e.name << "' does not inflate to its declared " << e.size << " bytes (corrupt data)");
  check_crc(e, out.data(), e.size);
  return out;
}

}  // namespace gler::wi
