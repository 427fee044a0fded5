// `rocmforge hardware`: what this machine offers, for people (text) or programs (-o json).
#include <cstdio>
#include <memory>

#include "cli_common.h"
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
            if (*format == "json") {
              std::printf("%s\n", hw::to_json(info).dump(2).c_str());
            } else {
              std::printf("%s\n%s", hw::summary_line(info).c_str(), hw::details_text(info).c_str());
            }
            return 0;
          }};
}

}  // namespace rf::app
