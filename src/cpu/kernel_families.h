// Fillers of the kernel table: one per (ISA, weight-type family), each in src/cpu/<isa>/<family>.cc.
//
// Families: peak (roofline loops), float (f32, f16, bf16 weights with f32 activations), legacy (q4_0, q4_1, q5_0, q5_1,
// q8_0 with ActBlockQ8 activations), kquants (q4_K, q5_K, q6_K with q8_K activations), ops (element-wise
// operators), attn (attention over the KV cache).
// Files under src/cpu/<isa>/ are compiled with that ISA's flags. They must not call inline
// functions from shared headers (an ISA-flavoured copy could be picked by the linker for generic
// callers); they include only POD layouts (quant/blocks.h), cpu/kernels.h and intrinsics, and keep
// their helpers in an anonymous namespace.
#pragma once

#include "cpu/kernels.h"

namespace rf::cpu {

void fill_scalar_peak(KernelTable& t);
void fill_scalar_float(KernelTable& t);
void fill_scalar_legacy(KernelTable& t);
void fill_scalar_kquants(KernelTable& t);
void fill_scalar_ops(KernelTable& t);
void fill_scalar_attn(KernelTable& t);

#if defined(__x86_64__)
void fill_avx2_peak(KernelTable& t);
void fill_avx2_float(KernelTable& t);
void fill_avx2_legacy(KernelTable& t);
void fill_avx2_kquants(KernelTable& t);
void fill_avx2_ops(KernelTable& t);
void fill_avx2_attn(KernelTable& t);
void fill_avx512_peak(KernelTable& t);
void fill_avx512_float(KernelTable& t);
void fill_avx512_legacy(KernelTable& t);
void fill_avx512_kquants(KernelTable& t);
void fill_avx512_ops(KernelTable& t);
void fill_avx512_attn(KernelTable& t);
#endif

#if defined(__aarch64__)
void fill_neon_peak(KernelTable& t);
void fill_neon_float(KernelTable& t);
void fill_neon_legacy(KernelTable& t);
void fill_neon_kquants(KernelTable& t);
void fill_neon_ops(KernelTable& t);
void fill_neon_attn(KernelTable& t);
#endif

}  // namespace rf::cpu
