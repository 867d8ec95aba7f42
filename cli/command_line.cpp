#include "command_line.hpp"

#include <iostream>

namespace ember::cli {

namespace po = boost::program_options;

std::optional<int> parse_command_line(const std::vector<std::string>& args, const CommandLine& line,
                                      po::variables_map& vm) {
  try {
    po::command_line_parser parser(args);
    parser.options(line.all != nullptr ? *line.all : *line.shown);
    if (line.positional != nullptr) parser.positional(*line.positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << line.command << ": " << e.what() << "\n" << *line.shown;
    return 2;
  }
  if (vm.count("help") != 0U) {
    std::cout << line.about << *line.shown;
    return 0;
  }
  return std::nullopt;
}

}  // namespace ember::cli
