// float weight kernels for avx512: not written yet; the table keeps the level below.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_avx512_float(KernelTable&) {}

}  // namespace rf::cpu
