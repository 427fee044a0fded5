// Prometheus text for /metrics.
#include "server/metrics_text.h"

#include <cstdio>

namespace rf::server {
namespace {

class MetricsWriter {
 public:
  void gauge(const char* name, const char* help, double value) { write(name, help, "gauge", value); }
  void counter(const char* name, const char* help, double value) { write(name, help, "counter", value); }

  // One metric with a label per sample: name{label="key"} value.
  void labelled_counter(const char* name, const char* help, const char* label, const std::map<int, int64_t>& values) {
    header(name, help, "counter");
    for (const auto& [key, value] : values) {
      out_ += "rocmforge_" + std::string(name) + "{" + label + "=\"" + std::to_string(key) + "\"} " +
              std::to_string(value) + "\n";
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void header(const char* name, const char* help, const char* type) {
    out_ += "# HELP rocmforge_" + std::string(name) + " " + help + "\n";
    out_ += "# TYPE rocmforge_" + std::string(name) + " " + type + "\n";
  }
  void write(const char* name, const char* help, const char* type, double value) {
    header(name, help, type);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out_ += "rocmforge_" + std::string(name) + " " + buf + "\n";
  }

  std::string out_;
};

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

}  // namespace

std::string metrics_text(const EngineMetrics& m, const ServerCounters& s) {
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  MetricsWriter w;
  w.gauge("requests_running", "Requests being generated.", d(m.requests_running));
  w.gauge("requests_waiting", "Requests queued for a free slot.", d(m.requests_waiting));
  w.counter("requests_finished_total", "Requests that ended (any reason).", d(m.requests_finished));
  w.counter("prompt_tokens_total", "Prompt tokens evaluated (prefix-cache hits excluded).", d(m.prompt_tokens));
  w.counter("generated_tokens_total", "Tokens generated.", d(m.generated_tokens));
  w.counter("prompt_seconds_total", "Step time attributed to prompt tokens.", m.prompt_seconds);
  w.counter("generate_seconds_total", "Step time attributed to generated tokens.", m.generate_seconds);
  w.gauge("prompt_tokens_per_second", "Prompt tokens evaluated per second of prompt time.",
          ratio(d(m.prompt_tokens), m.prompt_seconds));
  w.gauge("generated_tokens_per_second", "Tokens generated per second of generation time.",
          ratio(d(m.generated_tokens), m.generate_seconds));
  w.gauge("kv_blocks_capacity", "KV pool blocks.", d(m.kv_blocks_total));
  w.gauge("kv_blocks_used", "KV blocks referenced by running requests.", d(m.kv_blocks_used));
  w.gauge("kv_blocks_cached", "Unreferenced KV blocks kept for prefix reuse.", d(m.kv_blocks_cached));
  w.gauge("kv_blocks_free", "KV blocks neither used nor cached.",
          d(m.kv_blocks_total - m.kv_blocks_used - m.kv_blocks_cached));
  w.counter("prefix_cache_lookups_total", "Requests that looked up the prefix cache.", d(m.prefix_lookups));
  w.counter("prefix_cache_hits_total", "Lookups that found at least one cached block.", d(m.prefix_hits));
  w.gauge("prefix_cache_hit_rate", "Hits per lookup.", ratio(d(m.prefix_hits), d(m.prefix_lookups)));
  w.counter("prefix_cache_saved_tokens_total", "Prompt tokens skipped thanks to the prefix cache.",
            d(m.prompt_tokens_cached));
  w.counter("preemptions_total", "Sequences sent back to the queue (KV recomputed later) when the pool ran dry.",
            d(m.preemptions));
  w.counter("engine_cpu_seconds_total", "CPU time of the engine's threads.", m.busy_cpu_seconds);
  w.gauge("engine_cpu_utilization", "Engine CPU time per second of uptime per engine thread (0 to 1).",
          ratio(m.busy_cpu_seconds, s.uptime_seconds * s.n_threads));
  w.counter("steps_total", "Engine steps run.", d(m.steps));
  w.counter("step_seconds_total", "Time spent in engine steps.", m.step_seconds);
  w.gauge("step_seconds_mean", "Mean seconds per engine step.", ratio(m.step_seconds, d(m.steps)));
  w.gauge("uptime_seconds", "Seconds since the server started.", s.uptime_seconds);
  w.labelled_counter("http_responses_total", "HTTP responses sent, by status code.", "code", s.responses_by_status);
  w.counter("client_disconnects_total", "Streams cancelled because the client went away.", d(s.client_disconnects));
  return w.take();
}

}  // namespace rf::server
