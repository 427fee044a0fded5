// Monotonic wall-clock timing for the timings structs the library fills.
#pragma once

#include <chrono>

namespace rf {

inline double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace rf
