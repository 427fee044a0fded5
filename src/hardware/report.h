// Human and JSON renderings of HardwareInfo: the one-line start-up banner, a detailed text, and JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "hardware/hardware.h"

namespace rf::hw {

// "Detected: CPU (2 cores, AVX-512 VNNI BF16, 23.4 GiB) + no iGPU + dGPU NVIDIA H100 (80.0 GiB, cuda)"
std::string summary_line(const HardwareInfo& hw);

// The best SIMD level in a few words: "AVX-512 VNNI BF16 AMX", "AVX2 FMA", "AVX", "SSE4.2",
// "NEON DOTPROD SVE", or "scalar".
std::string simd_summary(const CpuFeatures& f);

// Several lines: CPU model, cores, full SIMD list, caches, memory, each GPU, tier, notes.
std::string details_text(const HardwareInfo& hw);

// {"cpu": {arch, vendor, model_name, physical_cores, logical_cores, simd, l1d_bytes, l2_bytes, l3_bytes},
//  "memory": {total_bytes, available_bytes}, "igpu": [...], "dgpu": [...], "tier": "...", "notes": [...]}
nlohmann::json to_json(const HardwareInfo& hw);

}  // namespace rf::hw
