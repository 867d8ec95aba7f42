// The keys ember.yaml accepts, described as data: what the loader enforces, in the words
// docs/configuration.md uses, so the documentation can be checked against it.
#pragma once

#include <string>
#include <vector>

namespace ember::config {

struct KeyDescription {
  std::string name;     // as written in YAML
  std::string allowed;  // type and range, or the allowed values ("integer 128..10240")
  // The default as YAML text ("128"); empty when the key is required or takes its default
  // from another key.
  std::string default_value;
  // The default as the documentation shows it: "`128`", "`0`: never", "required",
  // "`node.keep_alive_s`".
  std::string default_doc;
  std::string doc;      // one line; the documentation's description starts with it
  std::string section;  // the section its value holds ("node", "seccomp"), or empty
};

struct SectionDescription {
  // Empty for the top level; otherwise the key whose value (or list of values) it is.
  std::string name;
  std::vector<KeyDescription> keys;  // in the order the loader checks them
};

// Every section of ember.yaml, the top level first, each before the sections inside it.
std::vector<SectionDescription> describe_schema();

}  // namespace ember::config
