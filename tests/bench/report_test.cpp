// The outputs: the HTML page is self-contained and well formed, the JSON parses and holds
// every series, ratios are computed from the series.
#include "ember/bench/report.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "ember/bench/html_report.hpp"

namespace ember::bench {
namespace {

Report sample_report() {
  Report r;
  r.mode = "all";
  r.target = "provided <noop> & co";  // characters that must be escaped
  r.client = "Beast";
  r.payload = "1024-byte JSON event";
  r.series.push_back({"cold", "client total", SeriesKind::kFigure, {1000, 1200, 1500, 3000}});
  r.series.push_back({"cold", "request->sandbox_begin", SeriesKind::kPhase, {100, 120, 90, 80}});
  r.series.push_back({"cold", "sandbox_begin->spawned", SeriesKind::kPhase, {200, 250, 210, 220}});
  r.series.push_back({"warm", "client total", SeriesKind::kFigure, {100, 110, 120, 400}});
  r.series.push_back({"baseline", "posix_spawn->first next", SeriesKind::kBaseline, {500, 600}});
  r.add_ratio("cold: client total", "baseline: posix_spawn->first next");
  r.add_ratio("cold: client total", "baseline: missing");
  r.notes.push_back("runc baseline skipped");
  return r;
}

// Checks that every element opened is closed in order (HTML void elements excepted).
bool well_formed(const std::string& html, std::string& why) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  std::vector<std::string> open;
  for (auto lt = html.find('<'); lt != std::string::npos; lt = html.find('<', lt + 1)) {
    const auto gt = html.find('>', lt);
    if (gt == std::string::npos) return why = "unterminated tag", false;
    const std::string tag = html.substr(lt + 1, gt - lt - 1);
    if (tag.starts_with("!")) continue;
    const bool closing = tag.starts_with("/");
    const bool self_closing = tag.ends_with("/");
    auto name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" /"));
    if (closing) {
      if (open.empty() || open.back() != name) return why = "stray </" + name + ">", false;
      open.pop_back();
    } else if (!self_closing && kVoid.count(name) == 0) {
      open.push_back(name);
    }
  }
  if (!open.empty()) return why = "unclosed <" + open.back() + ">", false;
  return true;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

TEST(HtmlReport, IsSelfContainedAndWellFormed) {
  const auto html = html_text(sample_report());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  std::string why;
  EXPECT_TRUE(well_formed(html, why)) << why;
  EXPECT_NE(html.find("provided &lt;noop&gt; &amp; co"), std::string::npos);
}

TEST(HtmlReport, HasTheCdfHistogramsAndPhaseBreakdown) {
  const auto html = html_text(sample_report());
  EXPECT_EQ(count(html, "<svg class=\"cdf\""), 1U);
  // One histogram per distribution (figures and baselines), none for phase steps.
  EXPECT_EQ(count(html, "<svg class=\"histogram\""), 3U);
  EXPECT_EQ(count(html, "<svg class=\"phases\""), 1U);
  EXPECT_NE(html.find("sandbox_begin-&gt;spawned"), std::string::npos);
}

TEST(JsonReport, ParsesAndHoldsEverySeriesWithItsSamples) {
  const auto doc = boost::json::parse(json_text(sample_report())).as_object();
  EXPECT_EQ(doc.at("mode").as_string(), "all");
  const auto& series = doc.at("series").as_array();
  ASSERT_EQ(series.size(), 5U);
  const auto& cold = series[0].as_object();
  EXPECT_EQ(cold.at("kind").as_string(), "figure");
  EXPECT_EQ(cold.at("samples_us").as_array().size(), 4U);
  EXPECT_EQ(cold.at("summary_us").at("p50").to_number<double>(), 1200);
  EXPECT_EQ(series[1].at("kind").as_string(), "phase");
}

TEST(Report, RatiosAreOfTheSeriesPercentilesAndSkipMissingBaselines) {
  const auto r = sample_report();
  ASSERT_EQ(r.ratios.size(), 1U);
  EXPECT_DOUBLE_EQ(r.ratios[0].p50, 1200.0 / 500.0);
  EXPECT_DOUBLE_EQ(r.ratios[0].p99, 3000.0 / 600.0);
  const auto table = table_text(r);
  EXPECT_NE(table.find("baseline: posix_spawn->first next"), std::string::npos);
  EXPECT_NE(table.find("note: runc baseline skipped"), std::string::npos);
}

Report memory_report() {
  Report r;
  r.mode = "memory";
  r.target = "provided noop";
  r.client = "Beast";
  r.payload = "1024-byte JSON event";
  r.series.push_back(
      {"memory", "Pss per worker", SeriesKind::kFigure, {300, 310, 320}, Unit::kKibibytes});
  r.series.push_back(
      {"baseline", "Pss per process", SeriesKind::kBaseline, {100, 100, 110}, Unit::kKibibytes});
  r.add_ratio("memory: Pss per worker", "baseline: Pss per process");
  r.figures.emplace_back("system_unavailable_kib_per_worker", 512);
  return r;
}

TEST(Report, KibibyteSeriesCarryTheirUnitInTableJsonAndHtml) {
  const auto r = memory_report();
  ASSERT_EQ(r.ratios.size(), 1U);
  EXPECT_DOUBLE_EQ(r.ratios[0].p50, 310.0 / 100.0);
  const auto table = table_text(r);
  EXPECT_NE(table.find("KiB"), std::string::npos);
  EXPECT_EQ(table.find("microseconds"), std::string::npos);
  const auto doc = boost::json::parse(json_text(r)).as_object();
  const auto& first = doc.at("series").as_array().at(0).as_object();
  EXPECT_EQ(first.at("unit").as_string(), "KiB");
  EXPECT_EQ(first.at("samples_kib").as_array().size(), 3U);
  EXPECT_EQ(first.at("summary_kib").at("p50").to_number<double>(), 310);
  EXPECT_EQ(first.if_contains("samples_us"), nullptr);
  const auto html = html_text(r);
  std::string why;
  EXPECT_TRUE(well_formed(html, why)) << why;
  EXPECT_NE(html.find("Memory CDF"), std::string::npos);
  EXPECT_EQ(html.find("Latency CDF"), std::string::npos);
  EXPECT_NE(html.find("memory, KiB"), std::string::npos);
}

TEST(Report, MicrosecondSeriesKeepTheirJsonKeys) {
  const auto doc = boost::json::parse(json_text(sample_report())).as_object();
  const auto& first = doc.at("series").as_array().at(0).as_object();
  EXPECT_EQ(first.at("unit").as_string(), "us");
  EXPECT_NE(first.if_contains("samples_us"), nullptr);
}

}  // namespace
}  // namespace ember::bench
