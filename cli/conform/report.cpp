#include "report.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace ember::cli::conform {

namespace {

const char* result_name(Result result) {
  switch (result) {
    case Result::kPass:
      return "pass";
    case Result::kWarn:
      return "warn";
    case Result::kFail:
      break;
  }
  return "fail";
}

}  // namespace

void Report::add(const Check& check) {
  (check.result == Result::kPass ? passed_ : check.result == Result::kWarn ? warned_ : failed_)++;
  std::string line;
  if (json_) {
    boost::json::object object;
    object["name"] = check.name;
    object["result"] = result_name(check.result);
    object["expected"] = check.expected;
    object["actual"] = check.actual;
    object["section"] = check.section;
    line = boost::json::serialize(object);
  } else {
    line = std::string(result_name(check.result)) + "  " + check.name + " [" + check.section +
           "]: expected " + check.expected + "; got " + check.actual;
  }
  line += '\n';
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

void Report::finish() {
  if (json_) return;
  std::fprintf(out_, "%d passed, %d warned, %d failed\n", passed_, warned_, failed_);
  std::fflush(out_);
}

}  // namespace ember::cli::conform
