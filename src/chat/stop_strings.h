// StopMatcher: cuts streamed text at the first of some stop strings, holding back any tail that may
// still turn into one, so a stop string is never shown even when it arrives split across tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rf {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Appends generated text; returns what can be shown now. Once a stop string has been seen,
  // stopped() is true and nothing more is returned until reset().
  std::string push(std::string_view text);
  // The held-back tail, for when generation ends without a stop string.
  std::string flush();
  bool stopped() const { return stopped_; }
  void reset();

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // text not yet returned: a suffix that is a prefix of some stop string
  bool stopped_ = false;
};

}  // namespace rf
