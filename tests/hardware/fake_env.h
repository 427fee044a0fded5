// Test helpers: a throw-away sysfs/procfs tree in a temp dir and a DynamicLoader serving fake libraries.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <map>
#include <string>

#include "base/check.h"
#include "hardware/hardware.h"

namespace rf::hw::testing {

// A directory under /tmp removed on destruction; write() creates parent folders as needed.
class TempTree {
 public:
  TempTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rf_hw_XXXXXX").string();
    RF_CHECK(mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  void write(const std::string& rel, const std::string& text) const {
    const std::filesystem::path p = path(rel);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(path(rel)); }

 private:
  std::string root_;
};

// Libraries by name, each a table of symbols; records what the probe opened and closed.
class FakeLoader {
 public:
  using Symbols = std::map<std::string, void*>;

  void add_library(const std::string& name, Symbols symbols) { libs_[name] = std::move(symbols); }
  void set_open_error(const std::string& e) { open_error_ = e; }

  DynamicLoader loader() {
    DynamicLoader l;
    l.open = [this](const std::string& name) -> void* {
      opened.push_back(name);
      auto it = libs_.find(name);
      return it == libs_.end() ? nullptr : &it->second;
    };
    l.symbol = [](void* handle, const char* name) -> void* {
      const auto& syms = *static_cast<Symbols*>(handle);
      auto it = syms.find(name);
      return it == syms.end() ? nullptr : it->second;
    };
    l.close = [this](void*) { ++closes; };
    l.last_error = [this] { return open_error_; };
    return l;
  }

  std::vector<std::string> opened;
  int closes = 0;

 private:
  std::map<std::string, Symbols> libs_;
  std::string open_error_ = "cannot open shared object file: No such file or directory";
};

// Function pointers stored as the void* a real dlsym would return.
template <class F>
void* as_symbol(F* f) {
  void* p = nullptr;
  static_assert(sizeof p == sizeof f);
  std::memcpy(&p, &f, sizeof p);
  return p;
}

inline bool has_note(const HardwareInfo& hw, const std::string& text) {
  for (const std::string& n : hw.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace rf::hw::testing
