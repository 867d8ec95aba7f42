// Comparing functions for a reload: the position of an entry in its file is not a setting.
#include "ember/config/config.hpp"

namespace ember::config {

bool same_settings(const FunctionConfig& a, const FunctionConfig& b) {
  FunctionConfig unplaced = a;
  unplaced.source = b.source;
  return unplaced == b;
}

}  // namespace ember::config
