// metrics_text: every sample has HELP and TYPE, names are prefixed, counters end in _total, and
// the values are the engine's numbers or ratios computed here from them.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "server/metrics_text.h"

namespace rf::server {
namespace {

struct Parsed {
  std::map<std::string, double> samples;      // "name" or "name{labels}" -> value
  std::map<std::string, std::string> types;   // name -> gauge | counter
  std::map<std::string, bool> helped;
};

Parsed parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      p.helped[line.substr(7, line.find(' ', 7) - 7)] = true;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      p.types[line.substr(7, sp - 7)] = line.substr(sp + 1);
    } else {
      const size_t sp = line.rfind(' ');
      p.samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
  }
  return p;
}

TEST(MetricsText, WellFormedAndDerivedFromTheEngine) {
  EngineMetrics m;
  m.requests_running = 3;
  m.requests_waiting = 5;
  m.requests_finished = 17;
  m.prompt_tokens = 1234;
  m.prompt_tokens_cached = 96;
  m.generated_tokens = 777;
  m.prompt_seconds = 0.75;
  m.generate_seconds = 3.5;
  m.steps = 41;
  m.step_seconds = 4.1;
  m.busy_cpu_seconds = 6.3;
  m.kv_blocks_total = 100;
  m.kv_blocks_used = 37;
  m.kv_blocks_cached = 11;
  m.prefix_lookups = 9;
  m.prefix_hits = 4;
  ServerCounters s;
  s.uptime_seconds = 10.5;
  s.n_threads = 2;
  s.responses_by_status = {{200, 14}, {400, 2}, {429, 1}};
  s.client_disconnects = 2;

  const Parsed p = parse(metrics_text(m, s));
  ASSERT_GT(p.samples.size(), 20u);
  for (const auto& [sample, value] : p.samples) {
    const std::string name = sample.substr(0, sample.find('{'));
    EXPECT_EQ(name.rfind("rocmforge_", 0), 0u) << name;
    ASSERT_TRUE(p.types.count(name)) << name;
    EXPECT_TRUE(p.helped.count(name)) << name;
    const bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    EXPECT_EQ(p.types.at(name) == "counter", total) << name;
  }
  const auto at = [&](const std::string& k) {
    EXPECT_TRUE(p.samples.count(k)) << k;
    return p.samples.count(k) ? p.samples.at(k) : -1.0;
  };
  EXPECT_EQ(at("rocmforge_requests_running"), 3);
  EXPECT_EQ(at("rocmforge_requests_waiting"), 5);
  EXPECT_EQ(at("rocmforge_requests_finished_total"), 17);
  EXPECT_EQ(at("rocmforge_prompt_tokens_total"), 1234);
  EXPECT_EQ(at("rocmforge_generated_tokens_total"), 777);
  EXPECT_DOUBLE_EQ(at("rocmforge_prompt_tokens_per_second"), 1234 / 0.75);
  EXPECT_DOUBLE_EQ(at("rocmforge_generated_tokens_per_second"), 777 / 3.5);
  EXPECT_EQ(at("rocmforge_kv_blocks_used"), 37);
  EXPECT_EQ(at("rocmforge_kv_blocks_cached"), 11);
  EXPECT_EQ(at("rocmforge_kv_blocks_free"), 100 - 37 - 11);
  EXPECT_EQ(at("rocmforge_prefix_cache_hits_total"), 4);
  EXPECT_EQ(at("rocmforge_prefix_cache_lookups_total"), 9);
  EXPECT_DOUBLE_EQ(at("rocmforge_prefix_cache_hit_rate"), 4.0 / 9.0);
  EXPECT_EQ(at("rocmforge_prefix_cache_saved_tokens_total"), 96);
  EXPECT_DOUBLE_EQ(at("rocmforge_engine_cpu_utilization"), 6.3 / (10.5 * 2));
  EXPECT_EQ(at("rocmforge_steps_total"), 41);
  EXPECT_DOUBLE_EQ(at("rocmforge_step_seconds_mean"), 4.1 / 41);
  EXPECT_EQ(at("rocmforge_http_responses_total{code=\"429\"}"), 1);
  EXPECT_EQ(at("rocmforge_client_disconnects_total"), 2);
}

TEST(MetricsText, RatiosWithoutDenominatorsAreZero) {
  EngineMetrics m;
  m.kv_blocks_total = 8;
  const Parsed p = parse(metrics_text(m, ServerCounters{}));
  EXPECT_EQ(p.samples.at("rocmforge_prefix_cache_hit_rate"), 0);
  EXPECT_EQ(p.samples.at("rocmforge_step_seconds_mean"), 0);
  EXPECT_EQ(p.samples.at("rocmforge_prompt_tokens_per_second"), 0);
  EXPECT_EQ(p.samples.at("rocmforge_engine_cpu_utilization"), 0);
  EXPECT_EQ(p.samples.at("rocmforge_kv_blocks_free"), 8);
}

}  // namespace
}  // namespace rf::server
