// `ember bench http`: HTTP routes next to a direct Invoke of the same function, on one node
// of the bench's own, in the same run.
// - Two functions of the same code: `web-alb` behind an ALB route (/alb) and `web-url`
//   behind a Function URL route (/url). The default code is the no-op C runtime answering a
//   response document (EMBER_NOOP_ANSWER), valid for both formats.
// - At each --concurrency level, C keep-alive clients: GET /alb, GET /url, and the baseline,
//   POST .../functions/web-alb/invocations with an ALB-shaped event. The three kinds take
//   turns in rounds (the machine's load moves over a run), each round --n/rounds requests.
// - Per kind and level: each request's latency as the client saw it, and requests per second
//   (requests over the summed wall time of its rounds); ratios route over direct.
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "ember/bench/progress.hpp"
#include "ember/bench/stats.hpp"
#include "modes.hpp"

namespace ember::bench::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kRounds = 5;
constexpr const char* kDocument =
    R"({"statusCode":200,"statusDescription":"200 OK","headers":{"Content-Type":"text/plain"},"body":"ok"})";
// What a direct caller sends: the event an ALB route would have built for GET /alb.
constexpr const char* kAlbEvent =
    R"({"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-alb/0123456789abcdef"}},"httpMethod":"GET","path":"/alb","queryStringParameters":{},"headers":{"accept":"*/*","host":"127.0.0.1","x-forwarded-for":"127.0.0.1","x-forwarded-port":"9001","x-forwarded-proto":"http"},"body":"","isBase64Encoded":false})";

enum class Kind { kAlbRoute, kUrlRoute, kDirect };

struct Run {
  std::vector<double> latency_us;
  double wall_s = 0;
  std::size_t errors = 0;
  std::string first_error;
};

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::kAlbRoute:
      return "alb route";
    case Kind::kUrlRoute:
      return "function_url route";
    case Kind::kDirect:
      break;
  }
  return "direct invoke";
}

// One request of `kind`; its latency, or why it failed.
HttpResult request(HttpClient& client, Kind kind) {
  switch (kind) {
    case Kind::kAlbRoute:
      return client.get("/alb");
    case Kind::kUrlRoute:
      return client.get("/url");
    case Kind::kDirect:
      break;
  }
  return client.post(invoke_target("web-alb"), kAlbEvent, false);
}

bool answered_well(const HttpResult& r, Kind kind) {
  if (!r.ok || r.status != 200 || r.function_error) return false;
  return kind == Kind::kDirect ? r.body == kDocument : r.body == "ok";
}

// `n` requests of `kind` from `clients` (one thread each), added to `run`.
void round_of(std::vector<std::unique_ptr<HttpClient>>& clients, Kind kind, std::size_t n, Run& run,
              Progress& progress) {
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(clients.size());
    for (auto& client : clients) {
      threads.emplace_back([&, c = client.get()] {
        Run mine;
        while (next.fetch_add(1) < n) {
          const auto r = request(*c, kind);
          if (answered_well(r, kind)) {
            mine.latency_us.push_back(r.total_us);
          } else if (mine.errors++ == 0) {
            mine.first_error =
                r.ok ? "status " + std::to_string(r.status) + ": " + r.body : r.error;
          }
          progress.tick();
        }
        const std::scoped_lock lock(merge);
        run.latency_us.insert(run.latency_us.end(), mine.latency_us.begin(), mine.latency_us.end());
        if (run.errors == 0) run.first_error = mine.first_error;
        run.errors += mine.errors;
      });
    }
  }  // joined
  run.wall_s += std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::unique_ptr<HttpClient>> clients_of(ClientKind kind, const Endpoint& endpoint,
                                                    std::size_t count) {
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (std::size_t i = 0; i < count; ++i) clients.push_back(make_client(kind, endpoint));
  return clients;
}

void add_level(Report& report, std::size_t concurrency, std::map<Kind, Run>& runs) {
  const std::string c = std::to_string(concurrency);
  const std::string group = "http c=" + c;
  std::map<Kind, double> rates;
  for (auto& [kind, run] : runs) {
    const auto served = static_cast<double>(run.latency_us.size());
    rates[kind] = run.wall_s > 0 ? served / run.wall_s : 0;
    std::string key = kind == Kind::kAlbRoute   ? "alb_route"
                      : kind == Kind::kUrlRoute ? "url_route"
                                                : "direct";
    key += "_requests_per_s_c";
    key += c;
    report.figures.emplace_back(key, rates[kind]);
    if (run.errors > 0) {
      report.notes.push_back(group + " " + kind_name(kind) + ": " + std::to_string(run.errors) +
                             " requests failed; first: " + run.first_error);
    }
    report.series.push_back({group, kind_name(kind),
                             kind == Kind::kDirect ? SeriesKind::kBaseline : SeriesKind::kFigure,
                             std::move(run.latency_us)});
  }
  for (const Kind route : {Kind::kAlbRoute, Kind::kUrlRoute}) {
    report.add_ratio(group + ": " + kind_name(route), group + ": " + kind_name(Kind::kDirect));
    if (rates[Kind::kDirect] > 0) {
      report.figures.emplace_back(
          (route == Kind::kAlbRoute ? "alb" : "url") + std::string("_route_over_direct_rps_c") + c,
          rates[route] / rates[Kind::kDirect]);
    }
  }
}

}  // namespace

void run_http_mode(const BenchOptions& o, Report& report) {
  std::size_t most = 1;
  for (const auto c : o.concurrency_levels) most = std::max(most, c);
  std::vector<client::NodeFunction> functions;
  for (const auto& [name, path, format] :
       {std::tuple{"web-alb", "/alb", "alb"}, std::tuple{"web-url", "/url", "function_url"}}) {
    auto f = function_for(o, name);
    f.reserved_concurrency = static_cast<std::uint32_t>(most);
    f.environment["EMBER_NOOP_ANSWER"] = kDocument;
    f.http.path = path;
    f.http.format = format;
    functions.push_back(std::move(f));
  }
  const auto node = start_node(o, functions);
  report.payload = "GET requests; the baseline's ALB-shaped JSON event";
  const auto routes = parse_endpoint(node->http_address());
  if (!routes) throw std::runtime_error("no HTTP routes' listener: " + node->stdout_text());
  const Endpoint direct = endpoint_of(*node);
  const std::size_t per_round = std::max<std::size_t>(1, o.n / kRounds);

  for (const auto concurrency : o.concurrency_levels) {
    auto route_clients = clients_of(o.client, *routes, concurrency);
    auto direct_clients = clients_of(o.client, direct, concurrency);
    std::map<Kind, Run> runs;
    // Warm-up, not counted: workers for every client, and every connection open.
    for (const Kind kind : {Kind::kAlbRoute, Kind::kUrlRoute, Kind::kDirect}) {
      Run ignored;
      Progress quiet("http c=" + std::to_string(concurrency) + " warm-up", concurrency * 4);
      round_of(kind == Kind::kDirect ? direct_clients : route_clients, kind, concurrency * 4,
               ignored, quiet);
      if (ignored.errors > 0) {
        throw std::runtime_error(kind_name(kind) + " fails: " + ignored.first_error);
      }
    }
    Progress progress("http c=" + std::to_string(concurrency), per_round * kRounds * 3);
    for (std::size_t round = 0; round < kRounds; ++round) {
      for (const Kind kind : {Kind::kDirect, Kind::kAlbRoute, Kind::kUrlRoute}) {
        round_of(kind == Kind::kDirect ? direct_clients : route_clients, kind, per_round,
                 runs[kind], progress);
      }
    }
    add_level(report, concurrency, runs);
  }
  node->stop();
}

}  // namespace ember::bench::detail
