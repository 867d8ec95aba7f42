// ember.yaml declared once: one table per section, each key with its name, the member it
// fills, its type and range or allowed words, its default (the member's initializer in
// config.hpp) and a doc line. The loader accepts exactly these keys and checks them as
// written here; docs/configuration.md is checked against describe_schema(), made from them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "auth.hpp"
#include "buckets.hpp"
#include "ember/config/config.hpp"
#include "key.hpp"
#include "layers.hpp"
#include "readers.hpp"
#include "value_types.hpp"
#include "values.hpp"

// Table rows name only the fields they set, and the rest keep their defaults on purpose; GCC 12
// warns about that even for designated initializers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ember::config::detail {

inline constexpr std::uint64_t kMaxKeepAliveS = 86400;

inline constexpr auto kBooleanWords =
    std::to_array<Choice<bool>>({{"true", true}, {"false", false}});
inline constexpr auto kIsolationWords = std::to_array<Choice<Isolation>>(
    {{"native", Isolation::kNative}, {"oci", Isolation::kOci}, {"none", Isolation::kNone}});
inline constexpr auto kKeepAlivePolicyWords = std::to_array<Choice<KeepAlivePolicy>>(
    {{"fixed", KeepAlivePolicy::kFixed}, {"adaptive", KeepAlivePolicy::kAdaptive}});
// `network: host` shares the host's network; the struct keeps it as a flag.
inline constexpr auto kNetworkWords =
    std::to_array<Choice<bool>>({{"none", false}, {"host", true}});

inline constexpr auto kHttpListenerKeys = std::to_array<Key<HttpListenerConfig>>({
    {.name = "listen",
     .type = custom<&HttpListenerConfig::listen_host, &read_http_listen, &default_http_listen>(
         "`HOST:PORT`, as `node.listen`"),
     .doc = "Address of the HTTP routes' listener, opened when a function has an `http` "
            "route."},
});
static_assert(is_well_formed(kHttpListenerKeys));

inline constexpr auto kBucketKeys = std::to_array<Key<BucketConfig>>({
    {.name = "name",
     .type = text<&BucketConfig::name>(&is_bucket_name,
                                       "3 to 63 of a-z 0-9 . -, starting and ending with a letter "
                                       "or digit (S3's bucket naming rules)"),
     .required = true,
     .rule = "unique on the node",
     .doc = "The bucket's name: `s3.bucket.name` of its notifications, and its ARN "
            "`arn:aws:s3:::NAME`."},
    {.name = "path",
     .type = custom<&BucketConfig::path, &read_bucket_path>(
         "a directory path (relative to this file), made at start if missing"),
     .required = true,
     .rule = "not inside another bucket's path",
     .doc = "The directory whose files are the bucket's objects; a file's path below it is "
            "the object's key."},
});
static_assert(is_well_formed(kBucketKeys));

inline constexpr auto kCostKeys = std::to_array<Key<CostConfig>>({
    {.name = "usd_per_million_requests",
     .type =
         custom<&CostConfig::usd_per_million_requests,
                &read_price_into<&CostConfig::usd_per_million_requests>, &default_request_price>(
             "a non-negative decimal number"),
     .doc = "Price of a million requests (Lambda: $0.20)."},
    {.name = "usd_per_gb_second",
     .type =
         custom<&CostConfig::usd_per_gb_second, &read_price_into<&CostConfig::usd_per_gb_second>,
                &default_gb_second_price>("a non-negative decimal number"),
     .doc = "Price of a GB-second: Billed Duration times Memory Size, 1 GB = 1024 MB (Lambda, "
            "x86: $0.0000166667)."},
    {.name = "free_requests",
     .type = integer<&CostConfig::free_requests>(0, 1ULL << 40U),
     .doc = "Requests a month the free tier covers; shown apart from the cost."},
    {.name = "free_gb_seconds",
     .type = integer<&CostConfig::free_gb_seconds>(0, 1ULL << 40U),
     .doc = "GB-seconds a month the free tier covers; shown apart from the cost."},
});
static_assert(is_well_formed(kCostKeys));

inline constexpr auto kAuthModeWords =
    std::to_array<Choice<AuthMode>>({{"none", AuthMode::kNone}, {"sigv4", AuthMode::kSigV4}});

inline constexpr auto kAuthCredentialKeys = std::to_array<Key<AuthCredentialConfig>>({
    {.name = "access_key_id",
     .type = text<&AuthCredentialConfig::access_key_id>(&is_access_key_id,
                                                        "1 to 128 of A-Z a-z 0-9 _ . -"),
     .required = true,
     .rule = "unique on the node",
     .doc = "The key id clients sign with (`AWS_ACCESS_KEY_ID`)."},
    {.name = "secret_access_key",
     .type = custom<&AuthCredentialConfig::secret_access_key, &read_secret_access_key>(
         "1 to 128 characters without blanks"),
     .required = true,
     .doc = "Its secret (`AWS_SECRET_ACCESS_KEY`); never printed, not even in errors."},
    {.name = "allow",
     .type = text_list<&AuthCredentialConfig::allow>(&is_allowed_function,
                                                     "a function name, or `*` for every function"),
     .required = true,
     .doc = "The functions this key may invoke."},
});
static_assert(is_well_formed(kAuthCredentialKeys));

inline constexpr auto kAuthKeys = std::to_array<Key<AuthConfig>>({
    {.name = "mode",
     .type = choice<&AuthConfig::mode, kAuthModeWords>(),
     .required = true,
     .doc = "`sigv4`: every Invoke API request must carry an AWS Signature Version 4 of one of "
            "`credentials`; `none`: no checking."},
    {.name = "credentials",
     .type = list_of<&AuthConfig::credentials, kAuthCredentialKeys, &read_credentials>(
         "a list of maps; see [`credentials`](#credentials)"),
     .rule = "at least one with `mode: sigv4`",
     .doc = "The access keys the node knows."},
    {.name = "max_clock_skew_s",
     .type = integer<&AuthConfig::max_clock_skew>(1, 3600),
     .doc = "How far a request's `X-Amz-Date` may be from the node's clock, either way."},
});
static_assert(is_well_formed(kAuthKeys));

inline constexpr auto kLogFormatWords =
    std::to_array<Choice<LogFormat>>({{"text", LogFormat::kText}, {"json", LogFormat::kJson}});

// The keys of node.log_* and of a function's log_*: the same bounds, the node's the default.
inline constexpr std::uint64_t kMaxLogBytes = std::uint64_t{1} << 40U;

inline constexpr auto kNodeKeys = std::to_array<Key<NodeConfig>>({
    {.name = "listen",
     .type = custom<&NodeConfig::listen_host, &read_listen, &default_listen>(
         "`HOST:PORT`; HOST is an IPv4 literal, a bracketed IPv6 literal (`[::1]:9000`) or "
         "`localhost`; PORT is 0..65535"),
     .doc = "Address of the Invoke API (and of `GET /ember/v1/functions`)."},
    {.name = "state_dir",
     .type = custom<&NodeConfig::state_dir, &read_state_dir, &default_state_dir>(
         "a path; if it exists it must be a directory"),
     .default_note = "next to the YAML file",
     .doc = "Where the node keeps function logs (`STATE_DIR/logs/`)."},
    {.name = "region",
     .type = text<&NodeConfig::region>(&is_region,
                                       "lowercase letters, digits and '-' (like us-east-1)"),
     .doc = "Region reported to functions as `AWS_REGION` and used in ARNs."},
    {.name = "account_id",
     .type = text<&NodeConfig::account_id>(&is_account_id, "12 digits"),
     .doc = "Account id used in ARNs."},
    {.name = "keep_alive_s",
     .type = integer<&NodeConfig::keep_alive>(1, kMaxKeepAliveS),
     .doc = "Default `keep_alive_s` of every function that does not set its own."},
    {.name = "isolation",
     .type = choice<&NodeConfig::isolation, kIsolationWords>(),
     .doc = "Default `isolation` of every function that does not set its own."},
    {.name = "sandbox_uid",
     .type = integer<&NodeConfig::sandbox_uid>(1, 65534),
     .doc = "User id the runtime runs as inside sandboxes when `sandbox_uid_range` is `none`."},
    {.name = "sandbox_gid",
     .type = integer<&NodeConfig::sandbox_gid>(1, 65534),
     .doc = "Group id of that user; with a `sandbox_uid_range`, a group every sandbox's user "
            "also has, so code readable by it stays readable."},
    {.name = "sandbox_uid_range",
     .type = custom<&NodeConfig::sandbox_uid_range, &read_sandbox_uid_range,
                    &default_sandbox_uid_range>(
         "`FIRST-LAST` (ids no user, group or subordinate range of the host has) or `none`"),
     .doc = "Ids of the node's own: each sandbox runs as a user and group of its own from "
            "them, so the limits the kernel counts per user are its own."},
    {.name = "memory_budget_mb",
     .type =
         integer<&NodeConfig::memory_budget_mb>(128, 1ULL << 30U, "80 % of the machine's memory"),
     .doc = "Most `memory_mb` that live workers of all functions may add up to."},
    {.name = "max_workers",
     .type = integer<&NodeConfig::max_workers>(1, 100000),
     .doc = "Most live workers of all functions together."},
    {.name = "freeze_idle",
     .type = choice<&NodeConfig::freeze_idle, kBooleanWords>(),
     .doc = "Freeze parked workers (cgroup freezer; SIGSTOP for `isolation: none`) and thaw "
            "them when an event arrives."},
    {.name = "freeze_idle_after_ms",
     .type = integer<&NodeConfig::freeze_idle_after>(0, 3'600'000),
     .doc = "How long a worker must stay parked before it is frozen."},
    {.name = "shutdown_grace_s",
     .type = integer<&NodeConfig::shutdown_grace>(0, 900),
     .doc = "After the first SIGINT/SIGTERM, how long running invocations may finish before "
            "every worker is killed."},
    {.name = "init_cpu_burst",
     .type = choice<&NodeConfig::init_cpu_burst, kBooleanWords>(),
     .doc = "Native sandboxes: no CPU quota during the init phase."},
    {.name = "oci_runtime",
     .type =
         text<&NodeConfig::oci_runtime>(&is_oci_runtime, "auto, crun, runc or an absolute path"),
     .default_note = "the first of crun, runc that can run a container here",
     .doc = "The OCI runtime of `isolation: oci` sandboxes."},
    {.name = "max_image_mb",
     .type = integer<&NodeConfig::max_image_mb>(1, 1ULL << 20U),
     .doc = "Largest unpacked size of a function's image; a larger one is refused."},
    {.name = "http",
     .type = section<&NodeConfig::http, kHttpListenerKeys>("a map; see [`node.http`](#nodehttp)"),
     .doc = "The listener of functions' HTTP routes (docs/event-sources.md)."},
    {.name = "buckets",
     .type = list_of<&NodeConfig::buckets, kBucketKeys, &read_buckets>(
         "a list of maps; see [`node.buckets`](#nodebuckets)"),
     .doc = "Local directories served as S3 buckets, whose object notifications invoke "
            "functions (`s3_events`)."},
    {.name = "metrics",
     .type = choice<&NodeConfig::metrics, kBooleanWords>(),
     .doc = "Serve `GET /metrics` (Prometheus) on the Invoke API's port and keep the figures it "
            "and `ember cost` show (docs/operating.md)."},
    {.name = "cost",
     .type = section<&NodeConfig::cost, kCostKeys>("a map; see [`node.cost`](#nodecost)"),
     .doc = "Prices of the cost figures (`ember cost`, `/metrics`)."},
    {.name = "auth",
     .type = section<&NodeConfig::auth, kAuthKeys>("a map; see [`node.auth`](#nodeauth)"),
     .default_note = "no checking; required when `listen` is not a loopback address",
     .doc = "Who may call the Invoke API: AWS Signature Version 4 credentials."},
    {.name = "log_format",
     .type = choice<&NodeConfig::log_format, kLogFormatWords>(),
     .doc = "How function logs are written to their files and the node's stdout: Lambda's text "
            "lines, or one JSON object per line that says whose line it is."},
    {.name = "log_bytes_per_invocation",
     .type = integer<&NodeConfig::log_bytes_per_invocation>(1024, kMaxLogBytes),
     .doc = "Default `log_bytes_per_invocation` of every function that does not set its own."},
    {.name = "log_bytes_per_second",
     .type = integer<&NodeConfig::log_bytes_per_second>(1024, kMaxLogBytes),
     .doc = "Default `log_bytes_per_second` of every function that does not set its own."},
    {.name = "log_file_bytes",
     .type = integer<&NodeConfig::log_file_bytes>(4096, kMaxLogBytes),
     .doc = "Default `log_file_bytes` of every function that does not set its own."},
    {.name = "log_files",
     .type = integer<&NodeConfig::log_files>(1, 100000),
     .doc = "Default `log_files` of every function that does not set its own."},
});
static_assert(is_well_formed(kNodeKeys));

// Where the node section sits in the file, for defaults that functions take from it.
inline constexpr std::string_view kNodeSection = "node";

template <auto Member, auto NodeMember>
void apply_node_default(const NodeConfig& node, StructOf<Member>& out) {
  out.*Member = node.*NodeMember;
}

// The function's `Member` starts as the node's `NodeMember` (which must be a node key).
template <auto Member, auto NodeMember>
constexpr Inherit<StructOf<Member>> from_node() {
  return {.apply = &apply_node_default<Member, NodeMember>,
          .section = kNodeSection,
          .key = key_for<kNodeKeys, NodeMember>().name};
}

inline constexpr auto kSeccompKeys = std::to_array<Key<FunctionConfig>>({
    {.name = "deny",
     .type = text_list<&FunctionConfig::seccomp_deny>(&is_syscall_name,
                                                      "a system call name like ptrace"),
     .doc = "Also fail these system calls with EPERM."},
    {.name = "allow",
     .type = text_list<&FunctionConfig::seccomp_allow>(&is_syscall_name,
                                                       "a system call name like ptrace"),
     .doc = "Lift these entries of the default deny list (weakens the sandbox; logged at "
            "start)."},
});
static_assert(is_well_formed(kSeccompKeys));

inline constexpr auto kImageConfigKeys = std::to_array<Key<ImageOverrides>>({
    {.name = "entrypoint",
     .type = text_list<&ImageOverrides::entrypoint>(&is_non_empty, "a non-empty string"),
     .default_note = "the image's `Entrypoint`",
     .doc = "Replaces the image's entrypoint."},
    {.name = "command",
     .type = text_list<&ImageOverrides::command>(&is_non_empty, "a non-empty string"),
     .default_note = "the image's `Cmd`",
     .doc = "Replaces the image's command; its first element is `_HANDLER`."},
    {.name = "working_directory",
     .type =
         text<&ImageOverrides::working_directory>(&is_absolute_path_or_empty, "an absolute path"),
     .default_note = "the image's `WorkingDir`",
     .doc = "Replaces the image's working directory."},
});
static_assert(is_well_formed(kImageConfigKeys));

// Lambda's most for an event's age and for the wait before a retry: 6 hours.
inline constexpr std::uint64_t kMaxEventAgeS = 21600;

inline constexpr std::string_view kDestinationAllowed =
    "`function:NAME`, `dir:PATH` or `\"\"` (none)";
inline constexpr std::string_view kDestinationRule =
    "NAME is another function of this file; PATH (relative to this file) is a writable "
    "directory or can be made in one";

inline constexpr auto kAsyncKeys = std::to_array<Key<AsyncConfig>>({
    {.name = "max_retries",
     .type = integer<&AsyncConfig::max_retries>(0, 2),
     .doc = "How often a failed event is retried."},
    {.name = "max_event_age_s",
     .type = integer<&AsyncConfig::max_event_age>(60, kMaxEventAgeS),
     .doc = "Seconds an event may wait in the queue, retries included, before it is dropped."},
    {.name = "retry_delays_s",
     .type = integer_list<&AsyncConfig::retry_delays>(0, kMaxEventAgeS, 1, 2),
     .doc = "Seconds to wait before retry 1 and 2; the last one repeats."},
    {.name = "on_success",
     .type = custom<&AsyncConfig::on_success, &read_destination_into<&AsyncConfig::on_success>,
                    &no_destination>(kDestinationAllowed),
     .rule = kDestinationRule,
     .default_note = "none",
     .doc = "Where the record of a successful event goes."},
    {.name = "on_failure",
     .type = custom<&AsyncConfig::on_failure, &read_destination_into<&AsyncConfig::on_failure>,
                    &no_destination>(kDestinationAllowed),
     .rule = kDestinationRule,
     .default_note = "none",
     .doc = "Where the record of an event goes once its retries or its age run out."},
    {.name = "dead_letter",
     .type = custom<&AsyncConfig::dead_letter, &read_destination_into<&AsyncConfig::dead_letter>,
                    &no_destination>(kDestinationAllowed),
     .rule = kDestinationRule,
     .default_note = "none",
     .doc = "Where a failed event itself goes, with its error attributes (Lambda's dead-letter "
            "queue)."},
});
static_assert(is_well_formed(kAsyncKeys));

inline constexpr auto kScheduleKeys = std::to_array<Key<ScheduleConfig>>({
    {.name = "name",
     .type = text<&ScheduleConfig::name>(&is_rule_name, "1 to 64 of A-Z a-z 0-9 . _ -"),
     .required = true,
     .rule = "unique on the node",
     .doc = "The rule's name; the Scheduled Event's `resources` holds its ARN "
            "(`arn:aws:events:REGION:ACCOUNT:rule/NAME`)."},
    {.name = "expression",
     .type = custom<&ScheduleConfig::expression, &read_schedule_expression>(
         "`rate(N UNIT)` (UNIT: minute, minutes, hour, hours, days, day) or `cron(minutes hours "
         "day-of-month month day-of-week year)`, EventBridge's grammar, in UTC"),
     .required = true,
     .doc = "When the rule fires."},
    {.name = "input",
     .type = custom<&ScheduleConfig::input, &read_schedule_input>("JSON text, or \"\""),
     .default_note = "the Scheduled Event",
     .doc = "The event sent instead of EventBridge's Scheduled Event."},
    {.name = "enabled",
     .type = choice<&ScheduleConfig::enabled, kBooleanWords>(),
     .doc = "A disabled rule does not fire."},
});
static_assert(is_well_formed(kScheduleKeys));

inline constexpr auto kHttpFormatWords = std::to_array<Choice<HttpEventFormat>>(
    {{"alb", HttpEventFormat::kAlb}, {"function_url", HttpEventFormat::kFunctionUrl}});

inline constexpr auto kHttpRouteKeys = std::to_array<Key<HttpRouteConfig>>({
    {.name = "path",
     .type = text<&HttpRouteConfig::path>(&is_route_path,
                                          "`/` or `/SEGMENT/...` without a trailing `/`"),
     .required = true,
     .rule = "unique on the node; the longest prefix of a request's path wins",
     .doc = "The route: this path and every path below it."},
    {.name = "methods",
     .type = text_list<&HttpRouteConfig::methods>(&is_http_method,
                                                  "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"),
     .default_note = "every method",
     .doc = "Methods the route answers; others get 405."},
    {.name = "format",
     .type = choice<&HttpRouteConfig::format, kHttpFormatWords>(),
     .doc = "The event and response document: an ALB target group's or a Function URL's "
            "(payload format 2.0)."},
    {.name = "multi_value_headers",
     .type = choice<&HttpRouteConfig::multi_value_headers, kBooleanWords>(),
     .rule = "only with `format: alb`",
     .doc = "ALB's multi-value mode: `multiValueHeaders` and `multiValueQueryStringParameters` "
            "carry every value."},
});
static_assert(is_well_formed(kHttpRouteKeys));

inline constexpr auto kS3EventKeys = std::to_array<Key<S3EventConfig>>({
    {.name = "bucket",
     .type = text<&S3EventConfig::bucket>(&is_bucket_name, "a bucket name"),
     .required = true,
     .rule = "one of `node.buckets`",
     .doc = "The bucket whose object notifications invoke the function."},
    {.name = "events",
     .type = text_list<&S3EventConfig::events>(
         &is_s3_event_name,
         "`s3:ObjectCreated:*`, `s3:ObjectCreated:Put`, `s3:ObjectCreated:Copy`, "
         "`s3:ObjectRemoved:*` or `s3:ObjectRemoved:Delete`"),
     .rule = "at least one",
     .doc = "The event types that invoke it, as S3's notification configuration."},
    {.name = "prefix",
     .type = text<&S3EventConfig::prefix>(),
     .doc = "Only objects whose key starts with this."},
    {.name = "suffix",
     .type = text<&S3EventConfig::suffix>(),
     .doc = "Only objects whose key ends with this."},
});
static_assert(is_well_formed(kS3EventKeys));

inline constexpr auto kMountKeys = std::to_array<Key<MountConfig>>({
    {.name = "source",
     .type = custom<&MountConfig::source, &read_mount_source>(
         "the name of one of `node.buckets`, or an existing directory (relative to this file)"),
     .required = true,
     .doc = "What the sandbox sees at `target`."},
    {.name = "target",
     .type = text<&MountConfig::target>(&is_mount_target,
                                        "`/mnt/NAME` (NAME: components of A-Z a-z 0-9 . _ -)"),
     .required = true,
     .rule = "targets of a function neither equal nor inside one another",
     .doc = "Where the sandbox sees it, as Lambda's file system mounts (`/mnt/...`)."},
    {.name = "read_only",
     .type = choice<&MountConfig::read_only, kBooleanWords>(),
     .doc = "Mounted read-only (and nosuid, nodev)."},
});
static_assert(is_well_formed(kMountKeys));

inline constexpr auto kApplicationLogLevelWords =
    std::to_array<Choice<LogLevel>>({{"trace", LogLevel::kTrace},
                                     {"debug", LogLevel::kDebug},
                                     {"info", LogLevel::kInfo},
                                     {"warn", LogLevel::kWarn},
                                     {"error", LogLevel::kError},
                                     {"fatal", LogLevel::kFatal}});
inline constexpr auto kSystemLogLevelWords = std::to_array<Choice<LogLevel>>(
    {{"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo}, {"warn", LogLevel::kWarn}});

inline constexpr auto kLoggingKeys = std::to_array<Key<LoggingConfig>>({
    {.name = "format",
     .type = choice<&LoggingConfig::format, kLogFormatWords>(),
     .doc = "The function's log format, as Lambda's `LogFormat`: given to the runtime as "
            "`AWS_LAMBDA_LOG_FORMAT` (`Text` or `JSON`)."},
    {.name = "application_log_level",
     .type = choice<&LoggingConfig::application_log_level, kApplicationLogLevelWords>(),
     .rule = "only with `format: json`",
     .doc = "The least severe of the function's own records that is logged, as Lambda's "
            "`ApplicationLogLevel`: given to the runtime as `AWS_LAMBDA_LOG_LEVEL`."},
    {.name = "system_log_level",
     .type = choice<&LoggingConfig::system_log_level, kSystemLogLevelWords>(),
     .rule = "only with `format: json`",
     .doc = "Lambda's `SystemLogLevel`, for the platform's own lines."},
});
static_assert(is_well_formed(kLoggingKeys));

inline constexpr auto kFunctionKeys = std::to_array<Key<FunctionConfig>>({
    {.name = "name",
     .type = text<&FunctionConfig::name>(&is_function_name, "1 to 64 of A-Z a-z 0-9 _ -"),
     .required = true,
     .rule = "unique on the node",
     .doc = "Function name used by Invoke and in ARNs."},
    {.name = "runtime",
     .type = custom<&FunctionConfig::runtime, &read_runtime>(
         "`provided`, `provided.al2`, `provided.al2023`, `python3`, `python3.N`"),
     .rule = "not with `image`",
     .default_note = "required unless `image`",
     .doc = "How the worker is started."},
    {.name = "handler",
     .type = text<&FunctionConfig::handler>(),
     .rule = "python: `module.function`, where module may be a dotted package path",
     .default_note = "required for python runtimes",
     .doc = "Python: the function called for each event."},
    {.name = "code",
     .type = custom<&FunctionConfig::code_dir, &read_code>("an existing directory"),
     .rule = "for `provided*` it must hold an executable regular file `bootstrap`; not with "
             "`image`",
     .default_note = "required unless `image`",
     .doc = "The function's code, mounted read-only at `/var/task` in a native sandbox."},
    {.name = "image",
     .type = custom<&FunctionConfig::image, &read_image, &no_image>(
         "`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or `docker-archive:FILE[:NAME:TAG]`"),
     .rule = "not with `code`, `runtime`, `handler` or `zygote`",
     .default_note = "required for an image function",
     .doc = "A container image that implements the Runtime API (package type Image)."},
    {.name = "image_config",
     .type = section<&FunctionConfig::image_config, kImageConfigKeys>(
         "a map; see [`image_config`](#image_config)"),
     .rule = "only with `image`",
     .doc = "Overrides of the image's entrypoint, command and working directory."},
    {.name = "memory_mb",
     .type = integer<&FunctionConfig::memory_mb>(128, 10240),
     .doc = "Reported as `Memory Size` and counted against the node's memory budget."},
    {.name = "timeout_s",
     .type = integer<&FunctionConfig::timeout_s>(1, 900),
     .doc = "Seconds one invocation may run."},
    {.name = "environment",
     .type = custom<&FunctionConfig::environment, &read_environment, &default_environment>(
         "a map of name to string; see [`environment`](#environment)"),
     .doc = "Extra environment variables."},
    {.name = "reserved_concurrency",
     .type = integer<&FunctionConfig::reserved_concurrency>(0, 1000),
     .doc = "Most workers of this function at once."},
    {.name = "keep_alive_s",
     .type = integer<&FunctionConfig::keep_alive>(1, kMaxKeepAliveS),
     .inherit = from_node<&FunctionConfig::keep_alive, &NodeConfig::keep_alive>(),
     .doc = "Idle worker time-to-live in seconds."},
    {.name = "keep_alive",
     .type = choice<&FunctionConfig::keep_alive_policy, kKeepAlivePolicyWords>(),
     .doc = "How long an idle worker is kept."},
    {.name = "provisioned",
     .type = integer<&FunctionConfig::provisioned>(0, 1000),
     .rule = "at most `reserved_concurrency`",
     .doc = "Workers started and initialised at node start and replaced when one ends."},
    {.name = "max_reuse",
     .type = integer<&FunctionConfig::max_reuse>(0, 1'000'000),
     .default_note = "never",
     .doc = "Retire a worker after it has served this many invocations."},
    {.name = "prepared_sandboxes",
     .type = integer<&FunctionConfig::prepared_sandboxes>(0, 64),
     .doc = "Native sandboxes kept made ahead of time, so a cold start only starts the "
            "runtime."},
    {.name = "zygote",
     .type = choice<&FunctionConfig::zygote, kBooleanWords>(),
     .rule = "python runtimes only",
     .doc = "Fork the function's workers from ember's pre-initialised Python interpreter."},
    {.name = "isolation",
     .type = choice<&FunctionConfig::isolation, kIsolationWords>(),
     .inherit = from_node<&FunctionConfig::isolation, &NodeConfig::isolation>(),
     .doc = "How the function's workers are sandboxed."},
    {.name = "network",
     .type = choice<&FunctionConfig::network_host, kNetworkWords>(),
     .doc = "The network a native sandbox sees."},
    {.name = "ephemeral_storage_mb",
     .type = integer<&FunctionConfig::ephemeral_storage_mb>(512, 10240),
     .doc = "Size of the writable `/tmp` (tmpfs, charged to the function's memory)."},
    {.name = "seccomp",
     .type = inline_section<kSeccompKeys>("a map; see [`seccomp`](#seccomp)"),
     .doc = "Changes to the default seccomp policy."},
    {.name = "async",
     .type = section<&FunctionConfig::async, kAsyncKeys>("a map; see [`async`](#async)"),
     .doc = "Retries and destinations of asynchronous invocations (`InvocationType: Event`)."},
    {.name = "schedules",
     .type = list_of<&FunctionConfig::schedules, kScheduleKeys, &read_schedules>(
         "a list of maps; see [`schedules`](#schedules)"),
     .doc = "Rules that invoke the function asynchronously on a schedule, as EventBridge's "
            "(docs/event-sources.md)."},
    {.name = "http",
     .type = section<&FunctionConfig::http, kHttpRouteKeys>("a map; see [`http`](#http)"),
     .doc = "An HTTP route on `node.http`'s listener that invokes the function "
            "(docs/event-sources.md)."},
    {.name = "s3_events",
     .type = list_of<&FunctionConfig::s3_events, kS3EventKeys, &read_s3_events>(
         "a list of maps; see [`s3_events`](#s3_events)"),
     .doc = "Buckets whose object notifications invoke the function asynchronously, as S3's "
            "(docs/event-sources.md)."},
    {.name = "mounts",
     .type = list_of<&FunctionConfig::mounts, kMountKeys, &read_mounts>(
         "a list of maps; see [`mounts`](#mounts)"),
     .rule = "`isolation: native` or `oci`",
     .doc = "Directories and buckets bound into the function's sandbox at `/mnt/...`."},
    {.name = "layers",
     .type = custom<&FunctionConfig::layers, &read_layers, &default_layers>(
         "a list of up to 5 directories"),
     .rule = "`isolation: native` or `oci`; not with `image`; none is `/` or holds a mount "
             "point",
     .doc = "Lambda layers: merged read-only at `/opt` in this order, later ones winning; "
            "executables in `/opt/extensions/` start as external extensions "
            "(docs/runtimes.md)."},
    {.name = "log_bytes_per_invocation",
     .type = integer<&FunctionConfig::log_bytes_per_invocation>(1024, kMaxLogBytes),
     .inherit = from_node<&FunctionConfig::log_bytes_per_invocation,
                          &NodeConfig::log_bytes_per_invocation>(),
     .doc = "Most bytes of its own lines one invocation logs (START to END); past it they are "
            "dropped, and one line after them says how many."},
    {.name = "log_bytes_per_second",
     .type = integer<&FunctionConfig::log_bytes_per_second>(1024, kMaxLogBytes),
     .inherit =
         from_node<&FunctionConfig::log_bytes_per_second, &NodeConfig::log_bytes_per_second>(),
     .doc = "Most bytes of its own lines all the function's workers log in one second; past it "
            "they are dropped, and one line per worker and second says how many."},
    {.name = "log_file_bytes",
     .type = integer<&FunctionConfig::log_file_bytes>(4096, kMaxLogBytes),
     .inherit = from_node<&FunctionConfig::log_file_bytes, &NodeConfig::log_file_bytes>(),
     .doc = "A worker's log file is closed and the next one begun once it is this big."},
    {.name = "log_files",
     .type = integer<&FunctionConfig::log_files>(1, 100000),
     .inherit = from_node<&FunctionConfig::log_files, &NodeConfig::log_files>(),
     .doc = "Most log files the function keeps in `STATE_DIR/logs/NAME/`; the oldest are "
            "removed."},
    {.name = "logging",
     .type = section<&FunctionConfig::logging, kLoggingKeys>("a map; see [`logging`](#logging)"),
     .doc = "Log format and levels, as Lambda's advanced logging controls (docs/runtimes.md)."},
});
static_assert(is_well_formed(kFunctionKeys));

// The top level of the file.
inline constexpr auto kTopKeys = std::to_array<Key<Config>>({
    {.name = kNodeSection,
     .type = section<&Config::node, kNodeKeys>("a map; see [`node`](#node)"),
     .doc = "Node-wide settings."},
    {.name = "functions",
     .type = list_of<&Config::functions, kFunctionKeys, &read_functions>(
         "a list of maps; see [`functions`](#functions)"),
     .doc = "The functions the node serves."},
});
static_assert(is_well_formed(kTopKeys));

}  // namespace ember::config::detail

#pragma GCC diagnostic pop
