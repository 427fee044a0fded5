// BlockPool: reference counting, free list and the LRU prefix cache over KV blocks.
#include "kv/block_pool.h"

#include <algorithm>

#include "base/check.h"

namespace rf {

BlockPool::BlockPool(int64_t n_blocks, int64_t block_tokens) : block_tokens_(block_tokens) {
  RF_CHECK(n_blocks > 0 && block_tokens > 0);
  blocks_.resize(static_cast<size_t>(n_blocks));
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));  // block 0 first
}

uint64_t BlockPool::chain_hash(uint64_t parent, std::span<const int32_t> tokens) {
  // splitmix64 steps over (parent, tokens): cheap, well mixed; collisions are ruled out by the
  // token comparison in lookup().
  uint64_t h = parent;
  const auto mix = [&h](uint64_t x) {
    h += x + 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
  };
  for (const int32_t t : tokens) mix(static_cast<uint32_t>(t));
  mix(tokens.size());
  return h;
}

int32_t BlockPool::allocate() {
  int32_t block = kNone;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    block = lru_.front();
    forget(block);
  } else {
    return kNone;
  }
  Block& b = blocks_[static_cast<size_t>(block)];
  RF_CHECK(b.refs == 0);
  b.refs = 1;
  return block;
}

void BlockPool::forget(int32_t block) {
  Block& b = blocks_[static_cast<size_t>(block)];
  RF_CHECK(b.published && b.refs == 0);
  lru_.erase(b.lru_entry);
  by_hash_.erase(b.hash);
  b.published = false;
  b.tokens.clear();
}

void BlockPool::release(int32_t block) {
  Block& b = blocks_[static_cast<size_t>(block)];
  RF_CHECK(b.refs > 0);
  if (--b.refs > 0) return;
  if (b.published) {
    b.lru_entry = lru_.insert(lru_.end(), block);
  } else {
    free_.push_back(block);
  }
}

int32_t BlockPool::lookup(uint64_t parent, std::span<const int32_t> tokens) {
  const auto it = by_hash_.find(chain_hash(parent, tokens));
  if (it == by_hash_.end()) return kNone;
  Block& b = blocks_[static_cast<size_t>(it->second)];
  if (b.parent != parent || !std::equal(tokens.begin(), tokens.end(), b.tokens.begin(), b.tokens.end())) return kNone;
  if (b.refs == 0) lru_.erase(b.lru_entry);
  ++b.refs;
  return it->second;
}

void BlockPool::publish(int32_t block, uint64_t parent, std::span<const int32_t> tokens) {
  RF_CHECK(static_cast<int64_t>(tokens.size()) == block_tokens_);
  Block& b = blocks_[static_cast<size_t>(block)];
  RF_CHECK(b.refs > 0);
  if (b.published) return;
  const uint64_t hash = chain_hash(parent, tokens);
  if (!by_hash_.emplace(hash, block).second) return;
  b.published = true;
  b.hash = hash;
  b.parent = parent;
  b.tokens.assign(tokens.begin(), tokens.end());
}

}  // namespace rf
