// F16 -> BF16 weight conversion at load, releasing the mapped source pages as it goes.
#include "model/weight_convert.h"

#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "cpu/repack.h"
#include "quant/fp16.h"

namespace rf {
namespace {

// Drops the whole pages inside [data, data + bytes) from memory; later reads fault them back in
// from the file, so the mapping stays valid.
void release_pages(const uint8_t* data, uint64_t bytes) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

uint64_t convert_f16_to_bf16(ModelWeights& weights, std::vector<AlignedBuffer<uint8_t>>& storage) {
  std::map<const uint8_t*, const uint8_t*> converted;  // source data -> its bf16 copy
  uint64_t total = 0;
  for_each_matrix(weights, [&](cpu::MatrixView& m) {
    if (m.type != DType::kF16) return;
    const uint8_t* source = m.data;
    const uint64_t row_bytes = static_cast<uint64_t>(m.cols) * sizeof(uint16_t);  // same for both
    auto it = converted.find(source);
    if (it == converted.end()) {
      const uint64_t bytes = row_bytes * static_cast<uint64_t>(m.rows);
      AlignedBuffer<uint8_t>& copy = storage.emplace_back(bytes);
      const auto* in = reinterpret_cast<const uint16_t*>(source);
      auto* out = reinterpret_cast<uint16_t*>(copy.data());
      for (uint64_t i = 0; i < bytes / sizeof(uint16_t); ++i) out[i] = f32_to_bf16(fp16_to_f32(in[i]));
      release_pages(source, bytes);
      total += bytes;
      it = converted.emplace(source, copy.data()).first;
    }
    m.data = it->second;
    m.type = DType::kBF16;
    m.row_bytes = row_bytes;
  });
  return total;
}

}  // namespace rf

namespace rf {

uint64_t interleave_for_cpu(ModelWeights& weights, std::vector<AlignedBuffer<uint8_t>>& storage) {
  const bool tied = weights.output.data == weights.token_embd.data;
  std::map<const uint8_t*, cpu::MatrixView> packed;  // source data -> its repacked view
  uint64_t total = 0;
  for_each_matrix(weights, [&](cpu::MatrixView& m) {
    // A table only looked up by row gains nothing; one that is also the output matrix does.
    if ((&m == &weights.token_embd && !tied) || !cpu::interleaving_helps(m)) return;
    auto it = packed.find(m.data);
    if (it == packed.end()) {
      const uint8_t* source = m.data;
      const uint64_t bytes = m.row_bytes * static_cast<uint64_t>(m.rows);
      AlignedBuffer<uint8_t>& copy = storage.emplace_back(cpu::interleaved_bytes(m));
      it = packed.emplace(source, cpu::interleave(m, copy.data())).first;
      release_pages(source, bytes);
      total += bytes;
    }
    m = it->second;
  });
  return total;
}

}  // namespace rf
