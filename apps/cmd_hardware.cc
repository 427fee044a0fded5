// `rocmforge hardware`: what this machine offers, for people (text) or programs (-o json).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cpu/blas.h"
#include "hardware/report.h"

namespace rf::app {

Command add_hardware_command(CLI::App& root) {
  auto format = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand("hardware", "detect CPU, memory and GPUs (never fails)");
  add_output_option(cmd, *format);
  // `rocmforge --hardware -o json` reads the same format from the root.
  root.add_option("-o,--output", *format, "output format for --hardware")->check(CLI::IsMember({"text", "json"}));
  return {cmd, [format] {
            const hw::HardwareInfo& info = hardware();
            // The BLAS libraries f32/f16 prefill may use (cpu/blas.h), after ROCMFORGE_BLAS.
            std::vector<std::string> blas;
            for (const cpu::BlasBackend& b : cpu::blas_backends()) blas.push_back(b.name);
            if (*format == "json") {
              nlohmann::json j = hw::to_json(info);
              j["blas"] = blas;
              std::printf("%s\n", j.dump(2).c_str());
            } else {
              std::string names;
              for (const std::string& name : blas) names += (names.empty() ? "" : ", ") + name;
              std::printf("%s\n%s", hw::summary_line(info).c_str(), hw::details_text(info).c_str());
              std::printf("BLAS:    %s\n", names.empty() ? "none (f32/f16 prefill uses our kernels only)" : names.c_str());
            }
            return 0;
          }};
}

}  // namespace rf::app
