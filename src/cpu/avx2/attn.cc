// Attention for avx2: not written yet, the scalar level's kernel stays in the table.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_avx2_attn(KernelTable&) {}

}  // namespace rf::cpu
