// Element-wise operators for NEON: not written yet, the scalar level's stay in the table.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_neon_ops(KernelTable&) {}

}  // namespace rf::cpu
