// The verdicts of `ember conform`: one line per check, as text or as JSON Lines.
#pragma once

#include <cstdio>
#include <string>

namespace ember::cli::conform {

enum class Result { kPass, kWarn, kFail };

struct Check {
  std::string name;  // stable, e.g. "request-id"
  Result result = Result::kPass;
  std::string expected;
  std::string actual;
  std::string section;  // of the Runtime API digest, e.g. "Runtime API: next"
};

class Report {
 public:
  Report(std::FILE* out, bool json) : out_(out), json_(json) {}
  // Prints the check at once, so a slow scenario shows what came before it.
  void add(const Check& check);
  // The totals line (text only).
  void finish();
  [[nodiscard]] int failures() const { return failed_; }

 private:
  std::FILE* out_;
  bool json_;
  int passed_ = 0;
  int warned_ = 0;
  int failed_ = 0;
};

}  // namespace ember::cli::conform
