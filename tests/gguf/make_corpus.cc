// Writes the hostile-GGUF corpus into a folder: `rocmforge-gguf-corpus tests/gguf/corpus`.
#include <cstdio>
#include <fstream>
#include <string>

#include "corpus.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output folder>\n", argv[0]);
    return 2;
  }
  for (const auto& entry : rf::gguf::corpus::make_corpus()) {
    const std::string path = std::string(argv[1]) + "/" + entry.name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(entry.bytes.data()),
              static_cast<std::streamsize>(entry.bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
