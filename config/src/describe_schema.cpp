#include "ember/config/schema.hpp"
#include "schema.hpp"

namespace ember::config {

std::vector<SectionDescription> describe_schema() {
  std::vector<SectionDescription> sections;
  detail::describe_keys<detail::kTopKeys>("", sections);
  return sections;
}

}  // namespace ember::config
