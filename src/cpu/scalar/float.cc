// float weight kernels for scalar: not written yet; the table keeps the level below.
#include "cpu/kernel_families.h"

namespace rf::cpu {

void fill_scalar_float(KernelTable&) {}

}  // namespace rf::cpu
