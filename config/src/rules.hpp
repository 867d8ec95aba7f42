// Rules that tie keys together, which no single key's check can see; they run after a
// function's own keys are read. They name keys by the member they fill (key_for), so a key
// is spelled only in its table.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ember/config/config.hpp"
#include "walker.hpp"

namespace ember::config::detail {

// The functions read so far, by name, to point at the first of a repeated name.
using FunctionNames = std::map<std::string, YAML::Node, std::less<>>;

// Checks `function`, read from the map `item` at `path`, against its other keys and
// against the functions before it (recorded in `names`).
void check_function(const Walker& walker, const YAML::Node& item, std::string_view path,
                    const Entries& entries, const FunctionConfig& function, FunctionNames& names);

// Checks that each `function:NAME` destination of `async` names another function of the
// file, once all are read (a destination may come later in the file). `entries` holds each
// function's entries, in the order of `functions`.
void check_destinations(const Walker& walker, const std::vector<Entries>& entries,
                        const std::vector<FunctionConfig>& functions);

// Checks that no two functions' `http` routes have the same path.
void check_route_paths(const Walker& walker, const std::vector<Entries>& entries,
                       const std::vector<FunctionConfig>& functions);

}  // namespace ember::config::detail
