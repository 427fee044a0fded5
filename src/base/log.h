// Library logging goes through a callback the application installs; the library never prints to stdout.
#pragma once

#include <functional>
#include <string_view>

namespace rf {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Installs the sink (the default writes warnings and errors to stderr). Not thread-safe: call at start-up.
void set_log_sink(LogSink sink);
void set_log_level(LogLevel min_level);

void log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace rf

#define RF_LOG_DEBUG(...) ::rf::log(::rf::LogLevel::kDebug, __VA_ARGS__)
#define RF_LOG_INFO(...) ::rf::log(::rf::LogLevel::kInfo, __VA_ARGS__)
#define RF_LOG_WARN(...) ::rf::log(::rf::LogLevel::kWarn, __VA_ARGS__)
#define RF_LOG_ERROR(...) ::rf::log(::rf::LogLevel::kError, __VA_ARGS__)
