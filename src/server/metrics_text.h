// The Prometheus text exposition (format 0.0.4) of engine and server metrics for GET /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "runtime/engine.h"

namespace rf::server {

// What the HTTP layer counts itself.
struct ServerCounters {
  double uptime_seconds = 0;
  int n_threads = 1;                           // engine threads (CPU utilisation is per thread)
  std::map<int, int64_t> responses_by_status;  // HTTP status -> responses sent
  int64_t client_disconnects = 0;              // streams cancelled because the client went away
};

// Every metric carries # HELP and # TYPE lines; names are prefixed rocmforge_, counters end in
// _total. Rates with no denominator yet (no steps, no lookups) are 0.
std::string metrics_text(const EngineMetrics& engine, const ServerCounters& server);

}  // namespace rf::server
