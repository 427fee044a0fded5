// BlockPool: ownership of the paged KV cache's blocks — reference counts, a free list, and the
// prefix cache (full blocks found again by a hash chain of their tokens, evicted LRU).
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace rf {

class BlockPool {
 public:
  static constexpr int32_t kNone = -1;

  BlockPool(int64_t n_blocks, int64_t block_tokens);

  // The chain hash of a full block: covers its tokens and, through `parent` (kSeed for the
  // first block), every token before them.
  static constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull;
  static uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens);

  // A block nobody references: a free one, else the least recently used cached one (forgotten by
  // the cache). kNone when every block is referenced. The caller holds one reference.
  int32_t allocate();
  // Drops one reference; an unreferenced block that holds a published prefix stays cached.
  void release(int32_t block);

  // The cached block holding exactly `tokens` after the prefix whose hash is `parent`, with one
  // more reference for the caller; kNone if there is none.
  int32_t lookup(uint64_t parent, std::span<const int32_t> tokens);
  // Records that `block` (referenced, full) holds `tokens` after prefix `parent`. A block already
  // published under that prefix wins; this one then stays private.
  void publish(int32_t block, uint64_t parent, std::span<const int32_t> tokens);

  int64_t n_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t n_free() const { return static_cast<int64_t>(free_.size()); }
  int64_t n_cached() const { return static_cast<int64_t>(lru_.size()); }  // unreferenced, kept for reuse
  int64_t n_used() const { return n_blocks() - n_free() - n_cached(); }
  int32_t ref_count(int32_t block) const { return blocks_[static_cast<size_t>(block)].refs; }

 private:
  struct Block {
    int32_t refs = 0;
    bool published = false;
    uint64_t hash = 0;
    uint64_t parent = 0;
    std::vector<int32_t> tokens;             // what was published, to rule out hash collisions
    std::list<int32_t>::iterator lru_entry;  // valid while cached
  };
  void forget(int32_t block);

  int64_t block_tokens_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;
  std::list<int32_t> lru_;  // cached blocks, least recently used first
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

}  // namespace rf
