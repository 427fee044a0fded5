// Implementations of the base layer: errors, checks and the log sink.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/check.h"
#include "base/log.h"
#include "base/result.h"

namespace rf {
namespace {

std::string vformat(const char* fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  return out;
}

void default_sink(LogLevel level, std::string_view msg) {
  static const char* const kNames[] = {"debug", "info", "warning", "error"};
  std::fprintf(stderr, "%s: %.*s\n", kNames[static_cast<int>(level)], static_cast<int>(msg.size()),
               msg.data());
}

LogSink& sink() {
  static LogSink s = default_sink;
  return s;
}
LogLevel g_min_level = LogLevel::kWarn;

}  // namespace

Error make_error(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  Error e{vformat(fmt, args)};
  va_end(args);
  return e;
}

void set_log_sink(LogSink s) { sink() = s ? std::move(s) : LogSink(default_sink); }
void set_log_level(LogLevel min_level) { g_min_level = min_level; }

void log(LogLevel level, const char* fmt, ...) {
  if (level < g_min_level) return;
  va_list args;
  va_start(args, fmt);
  const std::string msg = vformat(fmt, args);
  va_end(args);
  sink()(level, msg);
}

namespace detail {
void check_failed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "rocmforge: internal check failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}
}  // namespace detail

}  // namespace rf
