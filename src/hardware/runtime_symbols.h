// Internal: typed symbol look-up in a dlopen'ed GPU runtime, collecting the missing required entry points.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "hardware/probes.h"

namespace rf::hw::detail {

class RuntimeSymbols {
 public:
  RuntimeSymbols(const DynamicLoader& loader, void* lib, std::string api, std::string lib_name)
      : loader_(loader), lib_(lib), api_(std::move(api)), lib_name_(std::move(lib_name)) {}

  // F is a function-pointer type; nullptr when the library lacks the symbol.
  template <class F>
  F required(const char* name) {
    void* p = lookup(name);
    if (p == nullptr) missing_.emplace_back(name);
    return cast<F>(p);
  }
  template <class F>
  F optional(const char* name) {
    return cast<F>(lookup(name));
  }

  // True when every required symbol was found; otherwise notes which were not and closes the library
  // (nothing has been called in it yet, so unloading is safe).
  bool all_required_found(Notes& notes) {
    if (missing_.empty()) return true;
    std::string list;
    for (const std::string& name : missing_) {
      if (!list.empty()) list += ", ";
      list += name;
    }
    notes.push_back(api_ + ": " + lib_name_ + " lacks " + list);
    if (loader_.close) loader_.close(lib_);
    return false;
  }

 private:
  void* lookup(const char* name) const { return loader_.symbol ? loader_.symbol(lib_, name) : nullptr; }

  // dlsym hands out object pointers; POSIX guarantees they convert to function pointers.
  template <class F>
  static F cast(void* p) {
    static_assert(sizeof(F) == sizeof(void*));
    F f = nullptr;
    std::memcpy(&f, &p, sizeof f);
    return f;
  }

  const DynamicLoader& loader_;
  void* lib_;
  std::string api_, lib_name_;
  std::vector<std::string> missing_;
};

}  // namespace rf::hw::detail
