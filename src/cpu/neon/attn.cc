// Attention for neon: not written yet, the scalar level's kernel stays in the table.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_neon_attn(KernelTable&) {}

}  // namespace rf::cpu
