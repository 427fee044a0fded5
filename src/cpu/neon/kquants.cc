// kquants weight kernels for neon: not written yet; the table keeps the level below.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_neon_kquants(KernelTable&) {}

}  // namespace rf::cpu
