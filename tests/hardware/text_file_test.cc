// The forgiving sysfs/procfs parsers and the shared runtime helpers.
#include <gtest/gtest.h>

#include "fake_env.h"
#include "hardware/probes.h"
#include "hardware/text_file.h"

namespace rf::hw::detail {
namespace {

TEST(TextFileTest, ParseNumbers) {
  EXPECT_EQ(parse_u64(" 4294967296\n"), 4294967296ull);
  EXPECT_EQ(parse_u64("0x8086\n"), 0x8086u);
  EXPECT_EQ(parse_u64("0X10DE"), 0x10deu);
  EXPECT_EQ(parse_u64("12abc"), std::nullopt);
  EXPECT_EQ(parse_u64("0x"), std::nullopt);
  EXPECT_EQ(parse_u64(""), std::nullopt);
  EXPECT_EQ(parse_u64("-1"), std::nullopt);
  EXPECT_EQ(parse_u64("99999999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_i64("-1\n"), -1);
  EXPECT_EQ(parse_i64("37"), 37);
  EXPECT_EQ(parse_i64("-"), std::nullopt);
}

TEST(TextFileTest, CpuLists) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_EQ(parse_cpu_list("3-1"), std::nullopt);
  EXPECT_EQ(parse_cpu_list("0-"), std::nullopt);
  EXPECT_EQ(parse_cpu_list("a"), std::nullopt);
  EXPECT_EQ(parse_cpu_list(""), std::nullopt);
  EXPECT_EQ(parse_cpu_list("0-4000000000"), std::nullopt);
}

TEST(TextFileTest, SizesWithSuffix) {
  EXPECT_EQ(parse_size_suffix("48K\n"), 48u << 10);
  EXPECT_EQ(parse_size_suffix("32M"), 32u << 20);
  EXPECT_EQ(parse_size_suffix("3G"), 3ull << 30);
  EXPECT_EQ(parse_size_suffix("777"), 777u);
  EXPECT_EQ(parse_size_suffix("K"), std::nullopt);
  EXPECT_EQ(parse_size_suffix("12X"), std::nullopt);
  EXPECT_EQ(parse_size_suffix("99999999999999999999G"), std::nullopt);
}

TEST(TextFileTest, KeyValues) {
  const std::string meminfo = "MemTotal:       24684092 kB\nMemAvailable:   123 kB\n";
  EXPECT_EQ(find_value(meminfo, "MemAvailable", ':'), "123 kB");
  EXPECT_EQ(find_value(meminfo, "Mem", ':'), std::nullopt);
  EXPECT_EQ(find_value("DRIVER=i915\nPCI_SLOT_NAME=0000:00:02.0", "PCI_SLOT_NAME", '='), "0000:00:02.0");
  EXPECT_EQ(find_value("no separators here", "no", ':'), std::nullopt);
}

TEST(TextFileTest, ReadTextRespectsLimitAndMissingFiles) {
  testing::TempTree tree;
  tree.write("f", "0123456789");
  EXPECT_EQ(read_text(tree.path("f")), "0123456789");
  EXPECT_EQ(read_text(tree.path("f"), 4), "0123");
  EXPECT_EQ(read_text(tree.path("missing")), std::nullopt);
  EXPECT_EQ(read_u64(tree.path("f")), 123456789u);
}

TEST(TextFileTest, PciBusSpellings) {
  EXPECT_EQ(normalize_pci_bus("00000000:01:00.0"), "0000:01:00.0");
  EXPECT_EQ(normalize_pci_bus("0000:C4:00.1\n"), "0000:c4:00.1");
  EXPECT_EQ(normalize_pci_bus("10000:e1:00.0"), "10000:e1:00.0");
  EXPECT_EQ(normalize_pci_bus("card0"), "");
  EXPECT_EQ(normalize_pci_bus("0000:01:00.0x"), "");
  EXPECT_EQ(normalize_pci_bus("0000:01:40.0"), "");
}

TEST(TextFileTest, DescribeCodes) {
  EXPECT_EQ(describe_code(100, "ignored for known codes"), "100: no device");
  EXPECT_EQ(describe_code(35, nullptr), "35: insufficient driver");
  EXPECT_EQ(describe_code(222, "the runtime's words"), "222: the runtime's words");
  EXPECT_EQ(describe_code(222, nullptr), "222: error");
}

}  // namespace
}  // namespace rf::hw::detail
