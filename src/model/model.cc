// Loading a Model: parse, validate, bind, then fault the weight pages in with progress reports.
#include "model/model.h"

#include <sys/mman.h>
#include <unistd.h>

namespace rf {
namespace {

// Touches one byte per page so later token steps do not stall on page faults.
void prefault(std::span<const uint8_t> bytes, const LoadProgress& progress) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  madvise(const_cast<uint8_t*>(bytes.data()), bytes.size(), MADV_WILLNEED);
  const size_t step = std::max<size_t>(page, bytes.size() / 100 / page * page);
  volatile uint8_t sink = 0;
  for (size_t chunk = 0; chunk < bytes.size(); chunk += step) {
    const size_t end = std::min(bytes.size(), chunk + step);
    for (size_t off = chunk; off < end; off += page) sink = static_cast<uint8_t>(sink + bytes[off]);
    if (progress) progress(static_cast<double>(end) / static_cast<double>(bytes.size()));
  }
}

}  // namespace

Result<Model> Model::load(const std::string& path, const LoadProgress& progress) {
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
  prefault(file->bytes().subspan(std::min<size_t>(file->data_offset(), file->bytes().size())), progress);
  return Model(std::move(file).value(), std::move(config).value(), std::move(weights).value(),
               std::move(tokenizer).value());
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const auto& t : file_.tensors()) total += t.n_bytes;
  return total;
}

}  // namespace rf
