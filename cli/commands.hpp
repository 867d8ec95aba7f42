// The `ember` commands; each takes its own arguments (after the command name).
#pragma once

#include <string>
#include <vector>

namespace ember::cli {

int serve_command(const std::vector<std::string>& args);
int invoke_command(const std::vector<std::string>& args);
int ps_command(const std::vector<std::string>& args);
int reload_command(const std::vector<std::string>& args);
int logs_command(const std::vector<std::string>& args);
int cost_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
int image_command(const std::vector<std::string>& args);
int rie_command(const std::vector<std::string>& args);
int conform_command(const std::vector<std::string>& args);

}  // namespace ember::cli
