// The part every `ember` command's argument handling shares: parse, report errors, --help.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ember::cli {

struct CommandLine {
  std::string command;  // "ember ps", for messages
  std::string about;    // printed above the options by --help
  const boost::program_options::options_description* shown = nullptr;  // listed in messages
  const boost::program_options::options_description* all = nullptr;    // parsed; `shown` if null
  const boost::program_options::positional_options_description* positional = nullptr;
};

// Fills `vm`. A parse error is printed with the options (the command then exits with 2);
// --help prints `about` and the options (exit 0). nullopt: the command goes on.
std::optional<int> parse_command_line(const std::vector<std::string>& args, const CommandLine& line,
                                      boost::program_options::variables_map& vm);

}  // namespace ember::cli
