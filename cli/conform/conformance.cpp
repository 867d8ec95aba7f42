#include "conformance.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <functional>
#include <utility>

#include "ember/runtime_api/limits.hpp"
#include "probe.hpp"

namespace ember::cli::conform {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// Sections of the Runtime API digest (/work/shared/spec/lambda.md, docs/runtimes.md).
constexpr const char* kNextSection = "Runtime API: next";
constexpr const char* kResponseSection = "Runtime API: invocation response";
constexpr const char* kErrorSection = "Runtime API: invocation error";
constexpr const char* kInitErrorSection = "Runtime API: init error";
constexpr const char* kLimitsSection = "Runtime API: limits (6 MB)";
constexpr const char* kShutdownSection = "Life cycle: shutdown";

constexpr std::size_t kLimit = runtime_api::kMaxPayloadBytes;
// The deadline of the context probe: far enough that no runtime times out, and not a round
// number, so a runtime that uses its own timeout instead is caught.
constexpr milliseconds kContextDeadline{180456};
// The late-response probe: the handler sleeps past a deadline this close.
constexpr milliseconds kLateDeadline{200};
constexpr int kLateSleepMs = 700;
// How long a runtime may take to end after SIGTERM.
constexpr milliseconds kTermGrace{2000};
// Slack for clocks read at different moments, in the deadline check.
constexpr std::int64_t kClockSlackMs = 50;

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

const char* kind_text(CallKind kind) {
  switch (kind) {
    case CallKind::kNext:
      return "next";
    case CallKind::kResponse:
      return "response";
    case CallKind::kError:
      return "error";
    case CallKind::kInitError:
      return "init/error";
    case CallKind::kTooLarge:
      return "response over 6 MB";
  }
  return "?";
}

// "POST /invocation/ID/error (202)"
std::string call_text(const RuntimeCall& call) {
  std::string out;
  switch (call.kind) {
    case CallKind::kNext:
      out = "GET /invocation/next";
      break;
    case CallKind::kInitError:
      out = "POST /init/error";
      break;
    default:
      out = "POST /invocation/" + call.request_id + "/" +
            (call.kind == CallKind::kError ? "error" : "response");
      if (call.kind == CallKind::kTooLarge) out += " over 6 MB";
  }
  if (call.status != 0) out += " (API answered " + std::to_string(call.status) + ")";
  return out;
}

// The JSON object of a probe answer, or nullopt.
std::optional<json::object> reply_object(const RuntimeCall& call) {
  if (call.kind != CallKind::kResponse) return std::nullopt;
  auto value = parse_json(call.body);
  if (!value || !value->is_object()) return std::nullopt;
  return value->as_object();
}

// What an error body lacks of Lambda's shape; empty when it has errorMessage and errorType.
std::string error_shape_problem(const std::string& body) {
  const auto value = parse_json(body);
  if (!value) return "a body that is not JSON: " + excerpt(body);
  if (!value->is_object()) return "JSON that is not an object: " + excerpt(body);
  const auto& object = value->as_object();
  for (const char* key : {"errorMessage", "errorType"}) {
    const auto* field = object.if_contains(key);
    if (field == nullptr || !field->is_string()) {
      return std::string("no string \"") + key + "\": " + excerpt(body);
    }
  }
  return {};
}

// The error body's stackTrace: an array of strings passes, none is a warning.
std::pair<Result, std::string> stack_trace_verdict(const std::string& body) {
  const auto value = parse_json(body);
  const auto* trace =
      value && value->is_object() ? value->as_object().if_contains("stackTrace") : nullptr;
  if (trace == nullptr) return {Result::kWarn, "no stackTrace (Lambda's runtimes send one)"};
  const bool strings =
      trace->is_array() && std::all_of(trace->as_array().begin(), trace->as_array().end(),
                                       [](const json::value& v) { return v.is_string(); });
  return {strings ? Result::kPass : Result::kFail,
          "stackTrace = " + excerpt(json::serialize(*trace))};
}

}  // namespace

void Conformance::add(const char* name, Result result, std::string expected, std::string actual,
                      const char* section) {
  Check check;
  check.name = name;
  check.result = result;
  check.expected = std::move(expected);
  check.actual = std::move(actual);
  check.section = section;
  report_.add(check);
}

void Conformance::run() {
  if (!starts()) return;
  // The scenarios, in order; each reports its own checks.
  echo();
  context();
  function_error();
  non_ascii();
  deep_json();
  payload_in();
  payload_out();
  response_too_large();
  late_response();
  sigterm();
  init_error();
}

RuntimeRun* Conformance::ready(std::string& why) {
  if (run_ && !run_->exit_status() && at_next_) return run_.get();
  if (run_ && !run_->exit_status() && back_to_next().empty()) return run_.get();
  // Anywhere else: a fresh start, as Lambda resets an environment that went wrong.
  run_.reset();
  at_next_ = false;
  try {
    run_ = std::make_unique<RuntimeRun>(options_.runtime);
  } catch (const std::exception& e) {
    why = e.what();
    return nullptr;
  }
  why = back_to_next();
  return why.empty() ? run_.get() : nullptr;
}

std::string Conformance::back_to_next() {
  const auto until = std::chrono::steady_clock::now() + options_.timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
    const auto waited = run_->wait(std::max(left, milliseconds(0)));
    if (!waited.call) return waited.describe(options_.timeout);
    // Other calls on the way (an error after a 413, a refused second `next`) are passed over.
    if (waited.call->kind == CallKind::kNext && waited.call->status == 0) {
      at_next_ = true;
      return {};
    }
  }
}

Conformance::Answer Conformance::invoke(runtime_api::NextEvent event) {
  Answer answer;
  std::string why;
  RuntimeRun* run = ready(why);
  if (run == nullptr) {
    answer.problem = "not run: the runtime did not come back to next: " + why;
    return answer;
  }
  const std::string id = event.request_id;
  at_next_ = false;
  answer.sent = std::chrono::system_clock::now();
  run->send(std::move(event));
  const auto waited = run->wait(options_.timeout);
  if (!waited.call) {
    answer.problem = waited.describe(options_.timeout) + " without answering";
    return answer;
  }
  const auto& call = *waited.call;
  const bool answers = call.kind == CallKind::kResponse || call.kind == CallKind::kError ||
                       call.kind == CallKind::kTooLarge;
  if (answers && call.request_id == id) {
    answer.call = call;
  } else if (answers) {
    answer.problem = "answered another request id: " + call_text(call) + ", the event's was " + id;
  } else {
    answer.problem = std::string("called ") + kind_text(call.kind) + " instead of answering " + id +
                     ": " + call_text(call);
  }
  return answer;
}

bool Conformance::starts() {
  std::string why;
  const bool ok = ready(why) != nullptr;
  add("starts", ok ? Result::kPass : Result::kFail,
      "the runtime calls GET /invocation/next within " + std::to_string(options_.timeout.count()) +
          " ms of its start",
      ok ? "it did" : why, kNextSection);
  return ok;
}

void Conformance::echo() {
  const std::string payload = echo_payload(R"("text":"hello from ember conform","n":42)");
  const auto answer = invoke(probe_event(payload, options_.timeout));
  add("request-id", answer.call ? Result::kPass : Result::kFail,
      "the answer posted to /invocation/{the event's Lambda-Runtime-Aws-Request-Id}/response",
      answer.call ? call_text(*answer.call) : answer.problem, kResponseSection);
  if (!answer.call) return;
  const auto body = parse_json(answer.call->body);
  echo_cooperates_ =
      answer.call->kind == CallKind::kResponse && body && *body == *parse_json(payload);
  add("response-body", echo_cooperates_ ? Result::kPass : Result::kWarn,
      "the probe's echo: the event back as the same JSON",
      echo_cooperates_ ? "the same JSON"
                       : call_text(*answer.call) + ": " + excerpt(answer.call->body) +
                             " (not the probe handler's answer: cannot tell)",
      kResponseSection);
}

void Conformance::round_trip(const char* name, const char* what, const std::string& payload) {
  const auto answer = invoke(probe_event(payload, options_.timeout));
  const std::string expected = std::string("the probe's echo of ") + what + " as the same JSON";
  if (!answer.call) {
    add(name, Result::kFail, expected, answer.problem, kResponseSection);
    return;
  }
  const auto body = parse_json(answer.call->body);
  if (answer.call->kind == CallKind::kResponse && body && *body == *parse_json(payload)) {
    add(name, Result::kPass, expected, "the same JSON", kResponseSection);
    return;
  }
  // The handler echoed the plain event: a different answer here is the runtime's doing.
  add(name, echo_cooperates_ ? Result::kFail : Result::kWarn, expected,
      call_text(*answer.call) + ": " + excerpt(answer.call->body), kResponseSection);
}

void Conformance::non_ascii() {
  // Raw UTF-8 in several scripts (an emoji beyond the BMP included) and JSON escapes: a
  // surrogate pair, a NUL, quotes, control characters; a non-ASCII key.
  round_trip("non-ascii", "non-ASCII text and escapes",
             echo_payload(R"("text":"héllo wörld ✓ 日本語 😀 Привет مرحبا \"quoted\" tab\t nl\n )"
                          R"(nul\u0000 \ud83d\ude80 caf\u00e9","clé":"über")"));
}

void Conformance::deep_json() {
  round_trip("deep-json", "arrays nested 500 deep",
             echo_payload(R"("deep":)" + nested_arrays(500)));
}

void Conformance::payload_in() {
  const std::string expected =
      "the whole " + std::to_string(kLimit) +
      "-byte event reaches the handler: {\"length\":" + std::to_string(length_data_size(kLimit)) +
      "}";
  const auto answer = invoke(probe_event(length_payload(kLimit), options_.timeout));
  if (!answer.call) {
    add("payload-6mb-in", Result::kFail, expected, answer.problem, kLimitsSection);
    return;
  }
  const auto reply = reply_object(*answer.call);
  const auto* length = reply ? reply->if_contains("length") : nullptr;
  if (length == nullptr || !length->is_number()) {
    add("payload-6mb-in", Result::kWarn, expected,
        call_text(*answer.call) + ": " + excerpt(answer.call->body) +
            " (not the probe handler's answer: cannot tell)",
        kLimitsSection);
    return;
  }
  const bool whole = length->to_number<double>() == static_cast<double>(length_data_size(kLimit));
  add("payload-6mb-in", whole ? Result::kPass : Result::kFail, expected,
      "{\"length\":" + json::serialize(*length) + "}", kLimitsSection);
}

void Conformance::payload_out() {
  const std::string expected = "a response of exactly " + std::to_string(kLimit) +
                               " bytes (a JSON string of " + std::to_string(kLimit - 2) +
                               " x's) accepted with 202";
  const auto answer = invoke(probe_event(
      R"({"conform":"big","bytes":)" + std::to_string(kLimit - 2) + "}", options_.timeout));
  if (!answer.call) {
    add("payload-6mb-out", Result::kFail, expected, answer.problem, kLimitsSection);
    return;
  }
  const auto& call = *answer.call;
  Result result = Result::kPass;
  std::string actual = call_text(call) + " with " + std::to_string(call.body.size()) + " bytes";
  if (call.kind == CallKind::kTooLarge) {
    result = Result::kFail;
    actual = call_text(call) + ": the runtime sent more than the handler's answer";
  } else if (call.kind != CallKind::kResponse || call.body.size() != kLimit) {
    result = Result::kWarn;
    actual += " (not the probe handler's answer: cannot tell)";
  }
  add("payload-6mb-out", result, expected, actual, kLimitsSection);
}

void Conformance::response_too_large() {
  const std::string expected =
      "the API answers a " + std::to_string(kLimit + 1) +
      "-byte response with 413 and the runtime goes on to GET /invocation/next";
  const auto answer = invoke(probe_event(
      R"({"conform":"big","bytes":)" + std::to_string(kLimit - 1) + "}", options_.timeout));
  if (!answer.call) {
    add("response-too-large", Result::kFail, expected, answer.problem, kLimitsSection);
    return;
  }
  if (answer.call->kind != CallKind::kTooLarge) {
    add("response-too-large", Result::kWarn, expected,
        call_text(*answer.call) + " with " + std::to_string(answer.call->body.size()) +
            " bytes (not the probe handler's answer: cannot tell)",
        kLimitsSection);
    return;
  }
  const std::string after = back_to_next();
  add("response-too-large", after.empty() ? Result::kPass : Result::kFail, expected,
      after.empty() ? "413, then next" : "413, then it " + after, kLimitsSection);
}

void Conformance::context() {
  auto event = probe_event(R"({"conform":"env"})", kContextDeadline);
  const std::string tag = event.request_id.substr(0, 8);
  const std::string trace_id = event.trace_id;
  const std::string arn = event.invoked_function_arn;
  const json::value custom = json::object{{"conform", "custom-" + tag}};
  json::object client_context{{"custom", custom},
                              {"env", json::object{{"platform", "ember-conform"}}},
                              {"client", json::object{{"installation_id", "conform-" + tag},
                                                      {"app_title", "ember conform"},
                                                      {"app_version_name", "1.0"},
                                                      {"app_version_code", "1"},
                                                      {"app_package_name", "ember.conform"}}}};
  event.client_context = json::serialize(client_context);
  const std::string identity_id = "us-east-1:conform-" + tag;
  const std::string pool_id = "us-east-1:conform-pool";
  event.cognito_identity = json::serialize(
      json::object{{"cognitoIdentityId", identity_id}, {"cognitoIdentityPoolId", pool_id}});
  const std::int64_t deadline = event.deadline_epoch_ms;

  const auto answer = invoke(std::move(event));
  const auto reply = answer.call ? reply_object(*answer.call) : std::nullopt;
  // Each header's check: its expectation, and the verdict on the probe's field.
  const auto judge = [&](const char* name, const char* field, const std::string& expected,
                         const std::function<bool(const json::value&)>& right) {
    if (!answer.call) {
      add(name, Result::kFail, expected, answer.problem, kNextSection);
      return;
    }
    const json::value* value = reply ? reply->if_contains(field) : nullptr;
    if (value == nullptr) {
      add(name, Result::kWarn, expected,
          call_text(*answer.call) + ": " + excerpt(answer.call->body) + " has no \"" + field +
              "\" (not the probe handler's answer: cannot tell)",
          kNextSection);
      return;
    }
    add(name, right(*value) ? Result::kPass : Result::kFail, expected,
        std::string(field) + " = " + excerpt(json::serialize(*value)), kNextSection);
  };

  const auto answered_at = answer.call ? epoch_ms(answer.call->at) : 0;
  const auto low = deadline - answered_at - kClockSlackMs;
  const auto high = deadline - epoch_ms(answer.sent) + kClockSlackMs;
  judge("deadline", "remaining_ms",
        "the handler's remaining time follows Lambda-Runtime-Deadline-Ms: " +
            std::to_string(kContextDeadline.count()) + " ms less the time to the answer" +
            (answer.call ? " (" + std::to_string(low) + " to " + std::to_string(high) + " ms)"
                         : std::string()),
        [&](const json::value& v) {
          if (!v.is_number()) return false;
          const auto ms = v.to_number<double>();
          return ms >= static_cast<double>(low) && ms <= static_cast<double>(high);
        });
  judge("invoked-function-arn", "invoked_function_arn",
        "the context's ARN is Lambda-Runtime-Invoked-Function-Arn: " + arn,
        [&](const json::value& v) { return v.is_string() && v.as_string() == arn; });
  judge("trace-id", "trace_id",
        "_X_AMZN_TRACE_ID in the handler's environment is Lambda-Runtime-Trace-Id: " + trace_id,
        [&](const json::value& v) { return v.is_string() && v.as_string() == trace_id; });
  judge("client-context", "client_context",
        "the context's client context is Lambda-Runtime-Client-Context, custom = " +
            json::serialize(custom),
        [&](const json::value& v) {
          const auto* got = v.is_object() ? v.as_object().if_contains("custom") : nullptr;
          return got != nullptr && *got == custom;
        });
  judge("cognito-identity", "cognito_identity",
        "the context's identity is Lambda-Runtime-Cognito-Identity: " + identity_id + " in " +
            pool_id,
        [&](const json::value& v) {
          const auto* object = v.if_object();
          if (object == nullptr) return false;
          const auto* id = object->if_contains("cognitoIdentityId");
          const auto* pool = object->if_contains("cognitoIdentityPoolId");
          return id != nullptr && pool != nullptr && *id == identity_id.c_str() &&
                 *pool == pool_id.c_str();
        });
}

void Conformance::function_error() {
  const auto answer = invoke(
      probe_event(R"({"conform":"error","message":"conform probe error"})", options_.timeout));
  const std::string to_error =
      "the failure posted to /invocation/{id}/error (the probe handler raised)";
  const std::string header_expected = "a Lambda-Runtime-Function-Error-Type header";
  const std::string body_expected =
      R"(a JSON body {"errorMessage": "...", "errorType": "...", "stackTrace": [...]})";
  const std::string stack_expected = R"("stackTrace": an array of strings)";
  const std::string polls_expected = "GET /invocation/next again after the error";
  if (!answer.call || answer.call->kind != CallKind::kError) {
    const bool can_tell = !answer.call;
    const std::string actual =
        can_tell ? answer.problem
                 : call_text(*answer.call) + ": " + excerpt(answer.call->body) +
                       " (the handler did not raise as the probe contract says: cannot tell)";
    const Result result = can_tell ? Result::kFail : Result::kWarn;
    add("error-endpoint", result, to_error, actual, kErrorSection);
    for (const auto& [name, expected] :
         {std::pair{"error-type-header", header_expected}, std::pair{"error-body", body_expected},
          std::pair{"error-stack-trace", stack_expected},
          std::pair{"polls-after-error", polls_expected}}) {
      add(name, result, expected, "no error posted: " + actual,
          name == std::string("polls-after-error") ? kNextSection : kErrorSection);
    }
    return;
  }
  const auto& call = *answer.call;
  add("error-endpoint", Result::kPass, to_error, call_text(call), kErrorSection);
  const bool has_type = call.error_type && !call.error_type->empty();
  add("error-type-header", has_type ? Result::kPass : Result::kFail, header_expected,
      has_type ? "Lambda-Runtime-Function-Error-Type: " + *call.error_type
               : std::string(call.error_type ? "an empty one" : "none"),
      kErrorSection);
  const std::string shape = error_shape_problem(call.body);
  add("error-body", shape.empty() ? Result::kPass : Result::kFail, body_expected,
      shape.empty() ? excerpt(call.body) : shape, kErrorSection);
  const auto [stack, stack_actual] = stack_trace_verdict(call.body);
  add("error-stack-trace", stack, stack_expected, stack_actual, kErrorSection);
  const std::string after = back_to_next();
  add("polls-after-error", after.empty() ? Result::kPass : Result::kFail, polls_expected,
      after.empty() ? "it did" : "it " + after, kNextSection);
}

void Conformance::late_response() {
  const std::string expected = "the handler's answer " + std::to_string(kLateSleepMs) +
                               " ms into an invocation whose deadline was " +
                               std::to_string(kLateDeadline.count()) +
                               " ms away (taken with 202), then GET /invocation/next";
  auto event = probe_event(R"({"conform":"sleep","ms":)" + std::to_string(kLateSleepMs) + "}",
                           kLateDeadline);
  const auto deadline = event.deadline_epoch_ms;
  const auto answer = invoke(std::move(event));
  if (!answer.call) {
    add("late-response", Result::kFail, expected, answer.problem, kNextSection);
    return;
  }
  const auto late_by = epoch_ms(answer.call->at) - deadline;
  if (late_by < 0) {
    add("late-response", Result::kWarn, expected,
        call_text(*answer.call) + " " + std::to_string(-late_by) +
            " ms before the deadline (the handler did not sleep as the probe contract says: "
            "cannot tell)",
        kNextSection);
    return;
  }
  const std::string after = back_to_next();
  add("late-response", after.empty() ? Result::kPass : Result::kFail, expected,
      call_text(*answer.call) + " " + std::to_string(late_by) + " ms after the deadline, then " +
          (after.empty() ? std::string("next") : "it " + after),
      kNextSection);
}

void Conformance::sigterm() {
  const std::string expected = "the runtime, waiting in next, ends within " +
                               std::to_string(kTermGrace.count()) +
                               " ms of SIGTERM (status 0, or killed by SIGTERM)";
  std::string why;
  RuntimeRun* run = ready(why);
  if (run == nullptr) {
    add("sigterm", Result::kFail, expected, "not run: " + why, kShutdownSection);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const int status = run->terminate(kTermGrace);
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  const std::string after = " after " + std::to_string(took.count()) + " ms";
  if (status == 0 || status == 128 + SIGTERM) {
    add("sigterm", Result::kPass, expected,
        (status == 0 ? "exited with status 0" : "killed by SIGTERM") + after, kShutdownSection);
  } else if (status == 128 + SIGKILL && took >= kTermGrace) {
    add("sigterm", Result::kFail, expected,
        "still running " + std::to_string(kTermGrace.count()) + " ms after SIGTERM: killed",
        kShutdownSection);
  } else {
    add("sigterm", Result::kWarn, expected,
        Waited{std::nullopt, status}.describe(took) + after + " (not a clean exit)",
        kShutdownSection);
  }
  run_.reset();
  at_next_ = false;
}

void Conformance::init_error() {
  const std::string expected =
      "with _HANDLER naming a missing module: POST /init/error with a "
      "Lambda-Runtime-Function-Error-Type header and an errorMessage/errorType JSON body, "
      "then exit";
  run_.reset();
  at_next_ = false;
  try {
    run_ = std::make_unique<RuntimeRun>(options_.missing_handler);
  } catch (const std::exception& e) {
    add("init-error", Result::kFail, expected, e.what(), kInitErrorSection);
    return;
  }
  const auto waited = run_->wait(options_.timeout);
  if (!waited.call) {
    add("init-error", Result::kFail, expected,
        "it " + waited.describe(options_.timeout) + " without POST /init/error", kInitErrorSection);
    run_.reset();
    return;
  }
  const auto& call = *waited.call;
  if (call.kind == CallKind::kNext) {
    add("init-error", Result::kWarn, expected,
        "it called next: it does not load a handler named by _HANDLER (or it ignored the "
        "failure): cannot tell",
        kInitErrorSection);
  } else if (call.kind != CallKind::kInitError) {
    add("init-error", Result::kFail, expected, call_text(call), kInitErrorSection);
  } else {
    std::string problem = error_shape_problem(call.body);
    if (!call.error_type || call.error_type->empty()) {
      problem = "no Lambda-Runtime-Function-Error-Type header";
    }
    const auto exit = run_->wait(options_.timeout);
    if (problem.empty() && !exit.exit_status) {
      problem = "POST /init/error, then it " +
                (exit.call ? "called " + call_text(*exit.call) : exit.describe(options_.timeout)) +
                " instead of exiting";
    }
    add("init-error", problem.empty() ? Result::kPass : Result::kFail, expected,
        problem.empty()
            ? call_text(call) + " " + *call.error_type + ", then " + exit.describe(options_.timeout)
            : problem,
        kInitErrorSection);
  }
  run_.reset();
}

}  // namespace ember::cli::conform
