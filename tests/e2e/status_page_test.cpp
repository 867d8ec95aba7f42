// The status page (GET /) of a real `ember serve`: its HTML after cold, warm and failed
// invocations, a runtime's hostile error type and a hostile handler shown as text, node.auth's
// refusal, and a real browser (headless Chromium) drawing it, checked on its screenshot.
#include "ember/engine/status_page.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>

#include "../support/eventually.hpp"
#include "ember/client/child_process.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A handler is free text for a provided runtime: the config file may hold markup.
constexpr const char* kHostileHandler = R"(<img src=x onerror=alert(1)>"')";
// What tests/testcases/provided/hostile_error reports as its error type (header and document).
constexpr const char* kHostileErrorType = R"(<b id="pwned">Evil</b>)";
// The two as HTML text, written out rather than computed with runtime_api::html_escape, so
// this checks the page's escaping independently of the function that does it.
constexpr const char* kHostileHandlerAsText = "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;";
constexpr const char* kHostileErrorTypeAsText = "&lt;b id=&quot;pwned&quot;&gt;Evil&lt;/b&gt;";

std::vector<FunctionSpec> functions() {
  return {{.name = "echo", .code = testcases_dir() / "python" / "echo"},
          {.name = "hostile",
           .runtime = "provided",
           .handler = kHostileHandler,
           .code = testcases_dir() / "provided" / "hostile_error"}};
}

HttpReply get(const Node& node, const std::string& path) {
  client::HttpRequest request;
  request.url = node.endpoint() + path;
  return client::http_request(request);
}

// The state of the function's one worker, from the status JSON; empty when it has none.
std::string worker_state(const Node& node, const std::string& function) {
  const auto reply = get(node, "/ember/v1/functions");
  if (reply.status != 200) return {};
  const auto status = boost::json::parse(reply.body);
  for (const auto& f : status.at("functions").as_array()) {
    if (f.at("name") != function.c_str()) continue;
    const auto& workers = f.at("workers").as_array();
    if (workers.size() == 1) return std::string(workers[0].at("state").as_string());
  }
  return {};
}

TEST(StatusPage, ShowsFunctionsWorkersAndTheReportsOfARealNode) {
  Node node(functions());
  const auto cold = node.invoke("echo", R"({"n":1})");
  ASSERT_EQ(cold.status, 200) << cold.error << cold.body;
  const auto warm = node.invoke("echo", R"({"n":2})");
  ASSERT_EQ(warm.status, 200) << warm.error << warm.body;
  const auto failed = node.invoke("hostile", "{}");
  ASSERT_EQ(failed.header("x-amz-function-error"), "Unhandled") << failed.body;

  const auto reply = get(node, "/");
  ASSERT_EQ(reply.status, 200) << reply.error << reply.body;
  EXPECT_EQ(reply.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(reply.header("cache-control"), "no-store");
  EXPECT_TRUE(reply.header("content-security-policy").starts_with("default-src 'none'"))
      << reply.header("content-security-policy");
  const std::string& page = reply.body;
  EXPECT_NE(page.find(R"(<meta http-equiv="refresh" content="5">)"), std::string::npos);

  // Functions with their configuration.
  EXPECT_NE(page.find("<tr><td>echo</td><td>python3</td><td><code>lambda_function.lambda_handler"
                      "</code></td><td class=\"n\">128 MB</td><td class=\"n\">3 s</td><td>10 "
                      "reserved</td>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr><td>hostile</td><td>provided</td>"), std::string::npos);

  // The cold REPORT with an Init Duration, the warm one without, each by its request id.
  const std::string cold_id = cold.header("x-amzn-requestid");
  const std::string warm_id = warm.header("x-amzn-requestid");
  ASSERT_FALSE(cold_id.empty());
  const std::string figures =
      R"(<td class="n">[0-9]+\.[0-9]{2} ms</td><td class="n">[0-9]+ ms</td>)";
  const std::string memory = R"(<td class="n">128 MB</td><td class="n">[0-9]+ MB</td>)";
  EXPECT_TRUE(std::regex_search(
      page, std::regex("<td>echo</td><td class=\"id\">" + cold_id + "</td>" + figures +
                       R"(<td class="n">[0-9]+\.[0-9]{2} ms</td>)" + memory + "<td>success</td>")))
      << "no cold row for " << cold_id << " in\n"
      << page;
  EXPECT_TRUE(std::regex_search(
      page, std::regex("<td>echo</td><td class=\"id\">" + warm_id + "</td>" + figures +
                       R"(<td class="n"></td>)" + memory + "<td>success</td>")))
      << "no warm row for " << warm_id;
  EXPECT_NE(page.find("1 cold (median "), std::string::npos);

  // The echo worker, waiting for its next event, with its state as a badge.
  EXPECT_TRUE(std::regex_search(
      page, std::regex(R"(<tr><td>echo</td><td class="id">echo-[0-9-]+</td><td><span class="state )"
                       R"re(state-(idle|frozen|answered)">(idle|frozen|answered)</span></td>)re")));

  // The config's handler is text, never markup. The runtime's markup never reaches the page:
  // its error type is narrowed by the Runtime API, its log and error document are not shown.
  EXPECT_EQ(page.find(kHostileErrorType), std::string::npos);
  EXPECT_EQ(page.find(kHostileErrorTypeAsText), std::string::npos);
  EXPECT_NE(page.find("<td class=\"bad\">error: Runtime.Unknown</td>"), std::string::npos) << page;
  EXPECT_EQ(page.find(kHostileHandler), std::string::npos);
  EXPECT_NE(page.find(std::string("<code>") + kHostileHandlerAsText + "</code>"),
            std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);

  // Queues and cost, from the same figures as `ember cost`.
  EXPECT_NE(page.find("<tr><td>echo</td><td class=\"n\">0</td><td class=\"n\">0</td><td "
                      "class=\"n\"></td><td class=\"n\">0</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<tr><td>echo</td><td class=\"n\">2</td><td class=\"n\">0.000"),
            std::string::npos);
  EXPECT_NE(page.find("<td>all functions</td><td class=\"n\">3</td>"), std::string::npos);
  const auto cost = run({ember_exe().string(), "cost", "--endpoint", node.endpoint()});
  ASSERT_EQ(cost.exit_code, 0) << cost.err;
  std::smatch row;
  ASSERT_TRUE(std::regex_search(cost.out, row, std::regex(R"(all functions +3 +([0-9.]+))")));
  EXPECT_NE(page.find("<td>all functions</td><td class=\"n\">3</td><td class=\"n\">" +
                      row[1].str() + "</td>"),
            std::string::npos)
      << "the page's GB-seconds are not ember cost's " << row[1];
}

TEST(StatusPage, IsServedOnlyToAKeyForEveryFunctionUnderSigV4) {
  NodeSettings settings;
  settings.auth.mode = "sigv4";
  settings.auth.credentials = {{"AKIDADMIN", "admin-secret", {"*"}},
                               {"AKIDECHO", "echo-secret", {"echo"}}};
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}}, settings);
  // A browser cannot sign: it is refused like any unsigned request.
  const auto unsigned_reply = get(node, "/");
  EXPECT_EQ(unsigned_reply.status, 403);
  EXPECT_EQ(unsigned_reply.header("x-amzn-errortype"), "MissingAuthenticationTokenException");
  EXPECT_EQ(unsigned_reply.body.find("<html"), std::string::npos);
  // What a signing proxy does: curl signs with SigV4.
  const auto curl = client::find_program("curl");
  ASSERT_TRUE(curl) << "curl is missing: scripts/setup.sh installs it";
  const auto signed_get = [&](const std::string& key) {
    return run({curl->string(), "-s", "-i", "--aws-sigv4", "aws:amz:us-east-1:lambda", "--user",
                key, node.endpoint() + "/"});
  };
  const auto admin = signed_get("AKIDADMIN:admin-secret");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  EXPECT_TRUE(admin.out.starts_with("HTTP/1.1 200")) << admin.out.substr(0, 400);
  EXPECT_NE(admin.out.find("<h1>ember node</h1>"), std::string::npos);
  const auto limited = signed_get("AKIDECHO:echo-secret");
  EXPECT_TRUE(limited.out.starts_with("HTTP/1.1 403")) << limited.out.substr(0, 400);
  EXPECT_NE(limited.out.find("AccessDeniedException"), std::string::npos);
}

// --- a real browser

struct Browser {
  std::optional<int> exit_code;  // none: it did not finish within the limit and was killed
  std::string out;
  std::string err;
};

// Headless Chromium (Debian's `chromium`) with `args`, in a process group of its own that is
// killed at the limit: its renderer and GPU processes go with it.
Browser chromium(const fs::path& dir, const std::vector<std::string>& args) {
  client::ChildOptions options;
  // As root Chromium needs --no-sandbox; a profile and HOME of the test's own.
  options.argv = {"chromium",
                  "--headless",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--no-first-run",
                  "--hide-scrollbars",
                  "--user-data-dir=" + (dir / "profile").string()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = {{"HOME", dir.string()}};
  options.output = dir / "chromium.out";
  options.errors = dir / "chromium.err";
  options.own_process_group = true;
  Browser browser;
  {
    client::ChildProcess child(options);
    browser.exit_code = child.wait_for(60s);
    if (!browser.exit_code) child.stop(1s);
  }
  browser.out = client::read_file(dir / "chromium.out");
  browser.err = client::read_file(dir / "chromium.err");
  std::filesystem::remove(dir / "chromium.out");
  std::filesystem::remove(dir / "chromium.err");
  return browser;
}

TEST(StatusPage, HeadlessChromiumDrawsTheLatencyPlotsAndTheWorkerStates) {
  ASSERT_TRUE(client::find_program("chromium"))
      << "chromium is missing: scripts/setup.sh installs Debian's chromium package";
  NodeSettings settings;
  settings.freeze_idle_after_ms = 3'600'000;  // the worker stays idle, not frozen
  Node node({{.name = "echo", .code = testcases_dir() / "python" / "echo"}}, settings);
  // One cold start and two warm invocations.
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto reply = node.invoke("echo", "{}");
    ASSERT_EQ(reply.status, 200) << reply.error;
    ids.push_back(reply.header("x-amzn-requestid"));
  }
  ASSERT_TRUE(eventually([&] { return worker_state(node, "echo") == "idle"; }))
      << "the worker never went idle: " << worker_state(node, "echo");
  const std::string url = node.endpoint() + "/";

  // The DOM Chromium built: the text, and the plot's points as elements.
  const auto dom = chromium(node.dir(), {"--dump-dom", url});
  ASSERT_EQ(dom.exit_code, 0) << "chromium --dump-dom: " << dom.err;
  EXPECT_NE(dom.out.find("<h2 id=\"recent\">Recent invocations</h2>"), std::string::npos)
      << dom.out.substr(0, 2000);
  for (const auto& id : ids) EXPECT_NE(dom.out.find(id), std::string::npos) << id;
  EXPECT_EQ(count(dom.out, "<rect class=\"cold\""), 1U);
  EXPECT_EQ(count(dom.out, "<circle class=\"warm\""), 2U);
  EXPECT_NE(dom.out.find("<span class=\"state state-idle\">idle</span>"), std::string::npos);

  // What it drew: the cold square, the warm circles and the idle badge in their colours.
  const fs::path png = node.dir() / "status.png";
  const auto shot =
      chromium(node.dir(), {"--window-size=1280,2000", "--screenshot=" + png.string(), url});
  ASSERT_EQ(shot.exit_code, 0) << "chromium --screenshot: " << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  const auto check =
      run({"/usr/bin/python3", (source_dir() / "tests" / "e2e" / "screenshot_colours.py").string(),
           png.string(), std::string("cold=") + engine::kColdColour,
           std::string("warm=") + engine::kWarmColour, std::string("idle=") + engine::kIdleColour});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const auto colours = boost::json::parse(check.out).as_object();
  EXPECT_EQ(colours.at("width"), 1280);
  EXPECT_EQ(colours.at("height"), 2000);
  // Not blank: text, tables and plots (a blank or error page has a few hundred at most).
  EXPECT_GT(colours.at("not_background").to_number<double>(), 20'000) << check.out;
  const auto& counts = colours.at("colours").as_object();
  // A 10x10 square (at least 8x8 of it in full colour, wherever it falls on the pixel grid); two
  // circles of radius 5 (their anti-aliased rims not counted); the badge.
  EXPECT_GE(counts.at("cold").to_number<double>(), 64) << check.out;
  EXPECT_GE(counts.at("warm").to_number<double>(), 2 * 45) << check.out;
  EXPECT_GE(counts.at("idle").to_number<double>(), 200) << check.out;
}

}  // namespace
}  // namespace ember::test
