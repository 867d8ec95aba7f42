// The node's configuration: validated plain structs made from ember.yaml.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ember::config {

// How a function's worker process is started.
enum class RuntimeKind {
  kProvided,  // the function's own executable `bootstrap` in its code directory
  kPython,    // ember's Python runtime client running `handler` (module.function)
  kImage,     // a container image's entrypoint and command (package type Image)
};

// Which sandbox backend runs a function's workers.
enum class Isolation {
  kNative,  // namespaces, cgroups, seccomp, own root (docs/isolation.md)
  kNone,    // a plain child process: an explicit, logged opt-out
  kOci,     // an OCI runtime (crun, runc) runs the sandbox (docs/isolation.md)
};

// How long an idle worker is kept (docs/scheduler.md).
enum class KeepAlivePolicy {
  kFixed,     // keep_alive seconds after its last invocation
  kAdaptive,  // learned from the function's inter-arrival times (hybrid histogram policy)
};

// `image_config`: what replaces the image's own settings, as Lambda's ImageConfig. Empty
// means the image's own.
struct ImageOverrides {
  std::vector<std::string> entrypoint;
  std::vector<std::string> command;
  std::string working_directory;  // absolute, inside the image
  bool operator==(const ImageOverrides&) const = default;
};

// Where the outcome of an asynchronous invocation goes (`async.on_success` and the like):
// `function:NAME` (invoked asynchronously with the record) or `dir:PATH` (one JSON file per
// record, written atomically). `""` in the YAML, or no key, is kNone: the outcome goes nowhere.
struct Destination {
  enum class Kind { kNone, kFunction, kDirectory };
  Kind kind = Kind::kNone;
  std::string function;             // kFunction: a function of this node
  std::filesystem::path directory;  // kDirectory: absolute
  [[nodiscard]] bool empty() const { return kind == Kind::kNone; }
  bool operator==(const Destination&) const = default;
};

// `async`: how events of `InvocationType: Event` are retried and where their outcome goes
// (Lambda's event invoke config and dead-letter config; docs/async.md).
struct AsyncConfig {
  std::uint32_t max_retries = 2;              // failed attempts retried: 0..2
  std::chrono::seconds max_event_age{21600};  // 60..21600
  // The wait before retry 1, 2, ...; the last one repeats. Lambda's are about 1 and 2 minutes.
  std::vector<std::chrono::seconds> retry_delays{std::chrono::seconds(60),
                                                 std::chrono::seconds(120)};
  Destination on_success;
  Destination on_failure;
  Destination dead_letter;
  bool operator==(const AsyncConfig&) const = default;
};

// One of a function's `schedules`: an EventBridge-style rule that invokes it asynchronously
// (docs/event-sources.md).
struct ScheduleConfig {
  std::string name;        // the rule's name, unique on the node; ends the rule's ARN
  std::string expression;  // `rate(...)` or `cron(...)`, as written (checked: ember::schedule)
  std::string input;       // JSON sent instead of the Scheduled Event; empty: the event
  bool enabled = true;
  bool operator==(const ScheduleConfig&) const = default;
};

// How an HTTP route hands a request to its function (docs/event-sources.md).
enum class HttpEventFormat {
  kAlb,          // an Application Load Balancer target group's event and response document
  kFunctionUrl,  // a Function URL's (HTTP API payload format 2.0)
};

// A function's `http`: the HTTP route on node.http's listener that invokes it. No path: none.
struct HttpRouteConfig {
  std::string path;  // "/prefix": this path and everything below it; "/" takes every path
  // Methods it answers (upper case); the others get 405. Empty: every method.
  std::vector<std::string> methods;
  HttpEventFormat format = HttpEventFormat::kAlb;
  bool multi_value_headers = false;  // alb: arrays of every value instead of the last one
  [[nodiscard]] bool empty() const { return path.empty(); }
  bool operator==(const HttpRouteConfig&) const = default;
};

// A function's log format (`logging.format`), as Lambda's LogFormat.
enum class LogFormat {
  kText,  // the runtime's own lines (Python: `[LEVEL] time request-id message`)
  kJson,  // one JSON object per record (the runtime writes them; docs/runtimes.md)
};

// Lambda's log levels, least severe first: application levels use all of them, system levels
// only debug, info and warn.
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

// A function's `logging`: Lambda's advanced logging controls (its LoggingConfig). The worker
// gets them as AWS_LAMBDA_LOG_FORMAT and, with JSON only, AWS_LAMBDA_LOG_LEVEL.
struct LoggingConfig {
  LogFormat format = LogFormat::kText;
  LogLevel application_log_level = LogLevel::kInfo;  // the least severe record kept (JSON)
  LogLevel system_log_level = LogLevel::kInfo;       // recorded; ember's lines are not filtered
  bool operator==(const LoggingConfig&) const = default;
};

// One of a function's `s3_events`: the object notifications of a bucket it subscribes to, as
// an S3 event notification configuration (docs/event-sources.md).
struct S3EventConfig {
  std::string bucket;  // one of node.buckets
  // S3's event types: s3:ObjectCreated:*, s3:ObjectCreated:Put, s3:ObjectCreated:Copy,
  // s3:ObjectRemoved:*, s3:ObjectRemoved:Delete.
  std::vector<std::string> events{"s3:ObjectCreated:*"};
  std::string prefix;  // the object key starts with this (S3's filter rule `prefix`)
  std::string suffix;  // ... and ends with this
  bool operator==(const S3EventConfig&) const = default;
};

// One of a function's `mounts`: a host directory (or a bucket's) bound into its sandbox, as
// Lambda's file system mounts.
struct MountConfig {
  std::string source;          // as written: a bucket's name or a directory
  std::string bucket;          // the bucket `source` names; empty for a plain directory
  std::filesystem::path path;  // the host directory: the bucket's path, or `source` made absolute
  std::string target;          // /mnt/NAME inside the sandbox
  bool read_only = true;
  bool operator==(const MountConfig&) const = default;
};

struct FunctionConfig {
  std::string name;  // [A-Za-z0-9_-]{1,64}
  std::string
      runtime;  // as written: "provided", "provided.al2", "python3", "python3.11"; "" for images
  RuntimeKind runtime_kind = RuntimeKind::kProvided;
  std::filesystem::path interpreter;  // python runtimes: the interpreter that will run it
  std::string handler;             // required for python ("module.function"), free text otherwise
  std::filesystem::path code_dir;  // absolute, exists, is a directory; empty for images
  // Not read from YAML: the program and arguments that replace CODE/bootstrap (ember rie runs
  // the command line it is given, as aws-lambda-rie does). argv[0] is an absolute path.
  std::vector<std::string> bootstrap_command;
  // Package type Image: the reference in its canonical form (image::ImageRef::to_string(), an
  // absolute path); empty for code functions.
  std::string image;
  ImageOverrides image_config;
  std::uint32_t memory_mb = 128;                                 // 128..10240
  std::uint32_t timeout_s = 3;                                   // 1..900
  std::vector<std::pair<std::string, std::string>> environment;  // in file order
  std::uint32_t reserved_concurrency = 10;  // most workers at once; 0 disables the function
  std::chrono::seconds keep_alive{600};     // idle worker time-to-live (fixed policy)
  KeepAlivePolicy keep_alive_policy = KeepAlivePolicy::kFixed;
  std::uint32_t provisioned = 0;  // workers kept initialised before traffic (<= reserved)
  std::uint32_t max_reuse = 0;    // retire a worker after this many invocations; 0 = never
  // Sandboxes made ahead of time, so a cold start only starts the runtime (native only).
  std::uint32_t prepared_sandboxes = 1;
  // Python: fork workers from a pre-initialised interpreter (the zygote) instead of starting one.
  bool zygote = false;
  Isolation isolation = Isolation::kNative;  // node.isolation unless the function sets it
  bool network_host = false;                 // `network: host`: share the host's network (weaker)
  std::uint32_t ephemeral_storage_mb = 512;  // size of /tmp, 512..10240
  std::vector<std::string> seccomp_deny;     // syscalls denied on top of the default policy
  std::vector<std::string> seccomp_allow;    // default denials lifted (weakens the sandbox)
  AsyncConfig async;                         // asynchronous invocations of this function
  std::vector<ScheduleConfig> schedules;     // rules that invoke it on a schedule
  HttpRouteConfig http;                      // its HTTP route; empty: none
  std::vector<S3EventConfig> s3_events;      // buckets whose object notifications invoke it
  std::vector<MountConfig> mounts;           // directories bound at /mnt/... in its sandbox
  // Host directories merged read-only at /opt in this order (later ones win), as Lambda
  // layers; executables in their extensions/ start as external extensions.
  std::vector<std::filesystem::path> layers;
  LoggingConfig logging;  // log format and levels (Lambda's LoggingConfig)
  // What the node keeps of the function's output (docs/reliability.md#log-flooding): its own
  // lines past a cap are dropped, with one marker line saying so; old files are removed.
  // node.log_* unless the function sets them.
  std::uint64_t log_bytes_per_invocation = std::uint64_t{16} << 20U;
  std::uint64_t log_bytes_per_second = std::uint64_t{4} << 20U;  // all its workers together
  std::uint64_t log_file_bytes = std::uint64_t{16} << 20U;       // a file is rotated past it
  std::uint32_t log_files = 100;                                 // files kept per function
  std::string source;  // "file:line:col" of the function's entry, for messages
  // Not read from YAML: "$LATEST", or the number of a version published through the control
  // plane, whose frozen code and settings these are (its pool is "NAME:N").
  std::string version = "$LATEST";
  // Every field, `source` too; same_settings() leaves it out.
  bool operator==(const FunctionConfig&) const = default;
};

// `node.http`: the listener of functions' HTTP routes, opened when a function has one.
struct HttpListenerConfig {
  std::string listen_host = "127.0.0.1";  // IPv6 without brackets
  std::uint16_t listen_port = 9001;       // 0 picks a free port
  bool operator==(const HttpListenerConfig&) const = default;
};

// One of `node.buckets`: a local directory whose files are a bucket's objects; functions
// subscribe to its notifications (`s3_events`) and see it through `mounts`.
struct BucketConfig {
  std::string name;            // S3's bucket naming rules; unique on the node
  std::filesystem::path path;  // absolute; made at start when missing
  bool operator==(const BucketConfig&) const = default;
};

// `node.cost`: the prices the node's cost figures use (`ember cost`, GET /metrics); Lambda's
// x86 on-demand rates and monthly free tier by default.
struct CostConfig {
  double usd_per_million_requests = 0.20;
  double usd_per_gb_second = 0.0000166667;
  std::uint64_t free_requests = 1'000'000;  // per month
  std::uint64_t free_gb_seconds = 400'000;  // per month
  bool operator==(const CostConfig&) const = default;
};

// `node.auth`: who may call the Invoke API (docs/configuration.md#nodeauth).
enum class AuthMode {
  kNone,   // every request is served: the default, and on loopback only unless written
  kSigV4,  // requests must carry an AWS Signature Version 4 of one of `credentials`
};

// One of `node.auth.credentials`: an access key and the functions it may invoke.
struct AuthCredentialConfig {
  std::string access_key_id;
  std::string secret_access_key;   // never printed, in messages or anywhere else
  std::vector<std::string> allow;  // function names; "*" is every function
  bool operator==(const AuthCredentialConfig&) const = default;
};

struct AuthConfig {
  AuthMode mode = AuthMode::kNone;
  std::vector<AuthCredentialConfig> credentials;  // kept but unused with kNone
  std::chrono::seconds max_clock_skew{300};       // X-Amz-Date this far from the clock at most
  bool operator==(const AuthConfig&) const = default;
};

// Ids of the node's own for its sandboxes' users: FIRST..FIRST+COUNT-1, one per sandbox.
struct UidRange {
  std::uint32_t first = 0;
  std::uint32_t count = 0;

  [[nodiscard]] std::uint32_t last() const { return first + count - 1; }
  friend bool operator==(const UidRange&, const UidRange&) = default;
};

// node.sandbox_uid_range's default: 0x70000000 and up, which systemd's id ranges leave unused
// (its containers' automatic ranges end below it, its "foreign" range is far above), and no
// distribution hands out.
inline constexpr UidRange kDefaultSandboxUids{0x70000000U, 65536};

struct NodeConfig {
  std::string listen_host = "127.0.0.1";     // Invoke API address; IPv6 without brackets
  std::uint16_t listen_port = 9000;          // 0 picks a free port
  std::filesystem::path state_dir;           // absolute; logs live under it
  std::string region = "us-east-1";          // used in ARNs and AWS_REGION
  std::string account_id = "000000000000";   // used in ARNs
  std::chrono::seconds keep_alive{600};      // default for functions that do not set it
  Isolation isolation = Isolation::kNative;  // default for functions that do not set it
  std::uint32_t sandbox_uid = 993;  // the worker's user inside sandboxes without a uid range
  std::uint32_t sandbox_gid = 993;  // its group; with a range, every worker's shared group
  // A user and group of its own for each sandbox (per-user kernel limits stay its own);
  // nullopt (`none`): every sandbox runs as sandbox_uid.
  std::optional<UidRange> sandbox_uid_range = kDefaultSandboxUids;
  std::uint64_t memory_budget_mb = 0;  // sum of memory_mb of all workers; 0: 80 % of RAM
  std::uint32_t max_workers = 256;     // workers of all functions together
  bool freeze_idle = true;             // freeze parked workers, thaw them for an event
  // ... once they have been idle this long, so back-to-back invocations never pay for it.
  std::chrono::milliseconds freeze_idle_after{1000};
  std::chrono::seconds shutdown_grace{10};  // in-flight invocations may finish this long
  bool init_cpu_burst = true;               // no CPU quota until a native worker's first `next`
  // `isolation: oci`: crun, runc or a path; "auto": the first of crun, runc that works here.
  std::string oci_runtime = "auto";
  std::uint64_t max_image_mb = 10240;  // largest image unpacked (Lambda's limit: 10 GB)
  HttpListenerConfig http;
  std::vector<BucketConfig> buckets;  // local directories served as buckets
  bool metrics = true;                // GET /metrics, and the figures it and `ember cost` show
  CostConfig cost;
  AuthConfig auth;  // who may call the Invoke API
  // Defaults of the functions' log_* keys (FunctionConfig).
  std::uint64_t log_bytes_per_invocation = std::uint64_t{16} << 20U;
  std::uint64_t log_bytes_per_second = std::uint64_t{4} << 20U;
  std::uint64_t log_file_bytes = std::uint64_t{16} << 20U;
  std::uint32_t log_files = 100;
  // How the node writes function logs to its files and stdout: text lines as Lambda's, or one
  // JSON object per line (Lambda's JSON log format, with the function and the line's source).
  LogFormat log_format = LogFormat::kText;
  bool operator==(const NodeConfig&) const = default;
};

struct Config {
  std::filesystem::path file;  // the YAML file it came from, absolute
  NodeConfig node;
  std::vector<FunctionConfig> functions;
};

// Thrown for any invalid configuration. what() is a single line:
// "FILE:LINE:COL: KEY: problem".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sets `function.runtime` as the `runtime:` key does (its kind and, for Python, the host's
// interpreter, which must be installed); the reason when ember does not run it. For functions
// made at run time through the control plane.
std::optional<std::string> set_runtime(FunctionConfig& function, std::string_view runtime);

// The first problem of a function's environment made at run time (a name that is not
// [A-Za-z_][A-Za-z0-9_]* or that Lambda reserves, more than 4 KB in all); nullopt when none.
std::optional<std::string> environment_error(
    const std::vector<std::pair<std::string, std::string>>& environment);

// [A-Za-z0-9_-]{1,64}, as Lambda allows for unqualified function names.
bool is_function_name(std::string_view name);

struct ListenAddress {
  std::string host;  // IPv6 without its brackets
  std::uint16_t port = 0;
};

// HOST:PORT (node.listen's form) with HOST an IPv4 literal, a bracketed IPv6 literal or
// "localhost"; nullopt for anything else.
std::optional<ListenAddress> parse_listen(std::string_view listen);

// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or `localhost`: only this machine can connect.
bool is_loopback_host(std::string_view host);

// Whether two functions run the same way: every setting equal, wherever in a file they were
// written (`source` is not compared). A reload replaces a function only when this is false.
bool same_settings(const FunctionConfig& a, const FunctionConfig& b);

// Reads and validates the whole file; throws ConfigError on the first problem.
Config load_config(const std::filesystem::path& file);

// Same, from text already in memory; `file` names it in messages and anchors relative paths.
Config parse_config(const std::string& yaml_text, const std::filesystem::path& file);

}  // namespace ember::config
