// Loading a Model: parse, validate, bind, then fault the weight pages in with progress reports.
#include "model/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include "model/weight_convert.h"

namespace rf {
namespace {

// Touches one byte per page of every matrix still in the mapped file, so later token steps do not
// stall on page faults. Matrices converted at load are already resident.
void prefault(const gguf::File& file, const ModelWeights& weights, const LoadProgress& progress) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const std::span<const uint8_t> mapped = file.bytes();
  std::vector<std::span<const uint8_t>> ranges;
  size_t total = 0;
  for_each_matrix(weights, [&](const cpu::MatrixView& m) {
    const size_t bytes = static_cast<size_t>(m.row_bytes) * static_cast<size_t>(m.rows);
    if (m.data < mapped.data() || m.data >= mapped.data() + mapped.size()) return;
    for (const auto& r : ranges) {
      if (r.data() == m.data) return;  // tied embeddings
    }
    ranges.emplace_back(m.data, bytes);
    total += bytes;
  });
  size_t done = 0;
  volatile uint8_t sink = 0;
  for (const auto& bytes : ranges) {
    const auto first = reinterpret_cast<uintptr_t>(bytes.data());
    madvise(reinterpret_cast<void*>(first / page * page), first % page + bytes.size(), MADV_WILLNEED);
    const size_t step = std::max<size_t>(page, total / 100 / page * page);
    for (size_t chunk = 0; chunk < bytes.size(); chunk += step) {
      const size_t end = std::min(bytes.size(), chunk + step);
      for (size_t off = chunk; off < end; off += page) sink = static_cast<uint8_t>(sink + bytes[off]);
      if (progress) progress(static_cast<double>(done + end) / static_cast<double>(total));
    }
    done += bytes.size();
  }
}

}  // namespace

Result<Model> Model::load(const std::string& path, const LoadOptions& options) {
  auto file = gguf::File::open(path);
  if (!file.ok()) return file.error();
  auto config = read_config(*file);
  if (!config.ok()) return make_error("%s: %s", path.c_str(), config.error().message.c_str());
  auto weights = bind_weights(*file, *config);
  if (!weights.ok()) return make_error("%s: %s", path.c_str(), weights.error().message.c_str());
  auto tokenizer = Tokenizer::from_gguf(*file);
  if (!tokenizer.ok()) return make_error("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  if (tokenizer->n_vocab() != config->n_vocab) {
    return make_error("%s: tokenizer has %d tokens but the model expects %lld", path.c_str(),
                      tokenizer->n_vocab(), static_cast<long long>(config->n_vocab));
  }
  std::vector<AlignedBuffer<uint8_t>> converted;
  if (options.f16_as_bf16) convert_f16_to_bf16(*weights, converted);
  if (options.repack) interleave_for_cpu(*weights, converted);
  prefault(*file, *weights, options.progress);
  return Model(std::move(file).value(), std::move(config).value(), std::move(weights).value(),
               std::move(tokenizer).value(), std::move(converted));
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const auto& t : file_.tensors()) total += t.n_bytes;
  return total;
}

}  // namespace rf
