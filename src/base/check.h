// Always-on invariant checks: a broken invariant is a bug, reported with file:line, never silent.
#pragma once

namespace rf::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* expr);
}

#define RF_CHECK(cond)                                                        \
  do {                                                                        \
    if (__builtin_expect(!(cond), 0)) ::rf::detail::check_failed(__FILE__, __LINE__, #cond); \
  } while (0)
