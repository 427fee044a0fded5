// Signatures of the element-wise and attention kernels in the kernel table (POD only: ISA files include it).
#pragma once

#include <cstdint>

namespace rf::cpu {

// How one KV-cache tensor (keys or values of a layer) stores its numbers.
enum class KvFormat : uint8_t {
  kF32,   // plain floats
  kQ8_0,  // per 32 features of a position: an fp16 scale d and 32 int8 q, value d * q (ggml's q8_0)
};

// Keys are stored in panels of kKvTile positions so that one vector holds one feature of 16
// positions: scores for a whole tile come out of multiply-adds (or 4-way int8 dot products) with a
// broadcast query feature, without horizontal sums. Panel t holds positions 16t .. 16t + 15.
//   f32:  float k[head_dim][16]
//   q8_0: int8 qs[n_blocks][8][16][4] (block b, features 4i..4i+3 of position p at [b][i][p]),
//         then uint16 fp16 scales[n_blocks][16]; n_blocks = ceil(head_dim / 32), the last block
//         zero-padded. Panels are kv_key_panel_bytes apart (a multiple of 64).
// Values are plain rows, one per position: f32 float[head_dim], or q8_0 n_blocks blocks of
// (fp16 d, int8 qs[32]) as ggml's BlockQ8_0, the last block zero-padded.
constexpr int64_t kKvTile = 16;
constexpr int64_t kKvBlock = 32;  // features per q8_0 block
// Positions per kernel step (two panels): one softmax update and one pass over the value rows each.
constexpr int64_t kKvStep = 32;

// Per-thread scratch of one attention call for up to n_rows query rows; dim = head_dim rounded up
// to kKvBlock. All pointers 64-byte aligned.
struct AttentionScratch {
  float* q = nullptr;         // [n_rows][dim] scaled queries, zero-padded
  int8_t* q8 = nullptr;       // [n_rows][dim] queries quantized per block (q8_0 keys)
  float* q8_d = nullptr;      // [n_rows][n_blocks] their scales
  int32_t* q8_sum = nullptr;  // [n_rows][n_blocks] 128 * sum of each block's q8 (unsigned-key dot products)
  float* o = nullptr;         // [n_rows][dim] output accumulators
  float* p = nullptr;         // [n_rows][kKvStep] scores, then probabilities, of one step
  float* v = nullptr;         // [kKvStep][dim] value rows widened to f32
  float* m = nullptr;         // [n_rows] running maximum score
  float* c = nullptr;         // [n_rows] rescale factor of the current tile
  float* l = nullptr;         // [n_rows][kKvTile] running sums of exp(score - max), per lane
};

// Attention of a block of query rows that share one KV head, over key positions [kv_begin, kv_end).
// Row r is query head (r % group) of token (r / group); token i sits at position pos0 + i and sees
// positions <= pos0 + i (causal). Scores are scale * q.k; softmax is taken online over the tiles.
struct AttentionArgs {
  int64_t head_dim = 0;
  int64_t n_rows = 0;
  int64_t group = 1;            // query heads per KV head
  const float* q = nullptr;     // row r at q + (r / group) * q_stride + (r % group) * head_dim
  int64_t q_stride = 0;         // floats between tokens
  float scale = 1.0f;
  int64_t pos0 = 0;
  int64_t kv_begin = 0;         // a multiple of kKvStep
  int64_t kv_end = 0;           // <= pos0 + n_rows / group
  KvFormat k_format = KvFormat::kF32;
  KvFormat v_format = KvFormat::kF32;
  // The cache is paged in blocks of kKvStep positions: positions [32 i, 32 i + 32) of this
  // sequence are in physical block blocks[i], whose two key panels start at
  // k + blocks[i] * k_block_bytes (k_panel_bytes apart) and whose value rows start at
  // v + blocks[i] * v_block_bytes (v_row_bytes apart).
  const int32_t* blocks = nullptr;
  const uint8_t* k = nullptr;   // this head's keys of physical block 0
  uint64_t k_panel_bytes = 0;
  uint64_t k_block_bytes = 0;
  const uint8_t* v = nullptr;   // this head's values of physical block 0
  uint64_t v_row_bytes = 0;
  uint64_t v_block_bytes = 0;
  float* out = nullptr;         // row r at out + (r / group) * out_stride + (r % group) * head_dim
  int64_t out_stride = 0;
  // nullptr: out = softmax(scores) . V. Otherwise out = unnormalized sum of exp(score - max) * v and
  // max_sum[2r], max_sum[2r + 1] = (max, sum) of row r, for merging position ranges (max = -inf and
  // sum = 0 for a row that sees none of them).
  float* max_sum = nullptr;
  AttentionScratch scratch;
};

// Element-wise operators. Lengths are arbitrary (tails included); pointers need no alignment.
// Vector levels use polynomial exp (relative error <= 2e-7 for results >= FLT_MIN, measured 1.2e-7; inputs below
// -87.3 give 0 or a subnormal); the scalar level calls std::exp.
struct OpsKernels {
  void (*rms_norm)(const float* x, const float* weight, float* out, int64_t n, float eps) = nullptr;
  // out = (x - mean) / sqrt(var + eps) * weight + bias.
  void (*layer_norm)(const float* x, const float* weight, const float* bias, float* out, int64_t n,
                     float eps) = nullptr;
  void (*softmax)(float* x, int64_t n) = nullptr;
  void (*swiglu)(float* gate, const float* up, int64_t n) = nullptr;
  // x = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), ggml's GeLU.
  void (*gelu)(float* x, int64_t n) = nullptr;
  void (*add)(float* y, const float* x, int64_t n) = nullptr;
  void (*rope)(float* head, int64_t n_rot, const float* cos_sin, bool neox) = nullptr;
  void (*exp)(const float* x, float* y, int64_t n) = nullptr;
  void (*attention)(const AttentionArgs& args) = nullptr;
};

}  // namespace rf::cpu
