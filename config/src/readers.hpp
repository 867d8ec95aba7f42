// Readers for the keys whose values need more than the generic checks of key.hpp: several
// members from one value, paths, checks against the file system, free-form maps.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"
#include "walker.hpp"

namespace ember::config::detail {

// node.state_dir when the file does not set it, relative to the YAML file.
inline constexpr std::string_view kDefaultStateDir = "./ember-state";
std::string default_state_dir();

// HOST:PORT into listen_host and listen_port.
void read_listen(const Walker& walker, const Entry& entry, NodeConfig& node);
std::string default_listen();
// node.http's HOST:PORT, read the same way.
void read_http_listen(const Walker& walker, const Entry& entry, HttpListenerConfig& http);
std::string default_http_listen();

// A price in US dollars: a plain non-negative decimal number (`0.20`, `0.0000166667`).
double read_price(const Walker& walker, const Entry& entry);
template <auto Member>
void read_price_into(const Walker& walker, const Entry& entry, CostConfig& cost) {
  cost.*Member = read_price(walker, entry);
}
// Lambda's rates, as the documentation writes them.
std::string default_request_price();
std::string default_gb_second_price();

// `FIRST-LAST` or `none`: ids of no host user or group, leaving out 65534 and sandbox_gid.
void read_sandbox_uid_range(const Walker& walker, const Entry& entry, NodeConfig& node);
std::string default_sandbox_uid_range();

// A directory path, or one that does not exist yet.
void read_state_dir(const Walker& walker, const Entry& entry, NodeConfig& node);

// The runtime's name, and from it runtime_kind and the interpreter, which must be installed.
void read_runtime(const Walker& walker, const Entry& entry, FunctionConfig& function);

// An existing directory; rules.cpp checks what the runtime needs in it.
void read_code(const Walker& walker, const Entry& entry, FunctionConfig& function);

// An image reference (`oci:DIR[:TAG]`, ...), stored in canonical form.
void read_image(const Walker& walker, const Entry& entry, FunctionConfig& function);
// `schedules`: a list of rules, each read with kScheduleKeys.
void read_schedules(const Walker& walker, const Entry& entry, FunctionConfig& function);
// A rule's `expression`, checked with ember::schedule (the error names its position).
void read_schedule_expression(const Walker& walker, const Entry& entry, ScheduleConfig& rule);
// A rule's `input`: JSON text.
void read_schedule_input(const Walker& walker, const Entry& entry, ScheduleConfig& rule);
std::string no_image();

// NAME: value pairs in file order, within Lambda's limits.
void read_environment(const Walker& walker, const Entry& entry, FunctionConfig& function);
std::string default_environment();

// The node makes a missing directory (and its missing parents) at start, so `dir` must be a
// writable directory already or have one as its nearest existing ancestor.
void check_makeable_directory(const Walker& walker, const Entry& entry,
                              const std::filesystem::path& dir);

// `function:NAME` or `dir:PATH` (PATH made absolute, a writable directory or one that can be
// made); "" for none. Whether NAME is a function of the file is checked after all are read
// (check_destinations in rules.cpp).
Destination read_destination(const Walker& walker, const Entry& entry);
template <auto Member>
void read_destination_into(const Walker& walker, const Entry& entry, AsyncConfig& async) {
  async.*Member = read_destination(walker, entry);
}
std::string no_destination();

// Each entry of the list with the function table and rules.cpp (defined in load_config.cpp).
void read_functions(const Walker& walker, const Entry& entry, Config& config);

}  // namespace ember::config::detail
