// legacy weight kernels for avx2: not written yet; the table keeps the level below.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_avx2_legacy(KernelTable&) {}

}  // namespace rf::cpu
