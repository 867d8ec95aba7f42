// node.auth's check of one Invoke API request: Beast requests signed as botocore signs them,
// checked against a fixed clock, with Lambda's error names and messages.
#include "ember/runtime_api/invoke_auth.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json/parse.hpp>
#include <ctime>

#include "ember/runtime_api/invoke_api.hpp"
#include "ember/runtime_api/sigv4.hpp"
#include "loopback.hpp"

namespace ember::runtime_api {
namespace {

namespace http = boost::beast::http;
using std::chrono::system_clock;

// 2026-12-03T10:00:00Z.
const system_clock::time_point kNow =
    std::chrono::sys_days(std::chrono::year(2026) / std::chrono::December / 3) +
    std::chrono::hours(10);
constexpr std::string_view kNowText = "20261203T100000Z";

AuthSettings settings(system_clock::time_point now = kNow) {
  AuthSettings out;
  out.credentials = {{"AKIDALL", "secret-all", {"*"}},
                     {"AKIDHELLO", "secret/hello+1", {"hello", "echo"}}};
  out.region = "eu-west-1";
  out.account_id = "123456789012";
  out.now = [now] { return now; };
  return out;
}

struct Signing {
  std::string key_id = "AKIDALL";
  std::string secret = "secret-all";
  std::string region = "eu-west-1";
  std::string amz_date = std::string(kNowText);
  std::string signed_headers = "content-type;host;x-amz-date";
};

// POST of `body` to `target`, signed as botocore signs it (Content-Type, Host, X-Amz-Date).
Request signed_request(const Signing& s = {},
                       std::string target = "/2015-03-31/functions/hello/invocations",
                       std::string body = R"({"k":"v"})") {
  Request req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1:9000");
  req.set(http::field::content_type, "application/json");
  req.set("X-Amz-Date", s.amz_date);
  req.body() = std::move(body);
  const std::string body_hash = sigv4::sha256_hex(req.body());  // outlives `what`, a view
  sigv4::SignedRequest what{
      .method = "POST", .target = req.target(), .headers = {}, .payload_hash = body_hash};
  for (const auto& field : req) what.headers.emplace_back(field.name_string(), field.value());
  req.set(http::field::authorization,
          sigv4::authorization_header({.access_key_id = s.key_id,
                                       .secret_access_key = s.secret,
                                       .region = s.region,
                                       .service = "lambda"},
                                      what, s.amz_date, s.signed_headers));
  return req;
}

AuthRefusal refusal(const Authenticator& auth, const Request& req) {
  auto result = auth.authenticate(req);
  EXPECT_TRUE(std::holds_alternative<AuthRefusal>(result)) << "the request was accepted";
  return std::holds_alternative<AuthRefusal>(result) ? std::get<AuthRefusal>(result)
                                                     : AuthRefusal{AuthError::kAccessDenied, ""};
}

TEST(Authenticator, AcceptsARequestSignedWithAKnownKeyAndSaysWhichKey) {
  const Authenticator auth(settings());
  const auto who = auth.authenticate(signed_request());
  ASSERT_TRUE(std::holds_alternative<const Credential*>(who));
  EXPECT_EQ(std::get<const Credential*>(who)->access_key_id, "AKIDALL");
  Signing other;
  other.key_id = "AKIDHELLO";
  other.secret = "secret/hello+1";
  const auto second = auth.authenticate(signed_request(other));
  ASSERT_TRUE(std::holds_alternative<const Credential*>(second));
  EXPECT_EQ(std::get<const Credential*>(second)->access_key_id, "AKIDHELLO");
}

TEST(Authenticator, WrongSecretIsInvalidSignature) {
  const Authenticator auth(settings());
  Signing wrong;
  wrong.secret = "not-the-secret";
  const auto why = refusal(auth, signed_request(wrong));
  EXPECT_EQ(why.error, AuthError::kInvalidSignature);
  EXPECT_EQ(why.message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");
}

TEST(Authenticator, ABodyChangedAfterSigningIsInvalidSignature) {
  const Authenticator auth(settings());
  Request req = signed_request();
  req.body() = R"({"k":"w"})";
  EXPECT_EQ(refusal(auth, req).error, AuthError::kInvalidSignature);
  Request header_changed = signed_request();
  header_changed.set(http::field::content_type, "text/plain");
  EXPECT_EQ(refusal(auth, header_changed).error, AuthError::kInvalidSignature);
  Request path_changed = signed_request();
  path_changed.target("/2015-03-31/functions/other/invocations");
  EXPECT_EQ(refusal(auth, path_changed).error, AuthError::kInvalidSignature);
}

TEST(Authenticator, UnknownKeyIdOrASessionTokenIsUnrecognizedClient) {
  const Authenticator auth(settings());
  Signing unknown;
  unknown.key_id = "AKIDNOBODY";
  const auto why = refusal(auth, signed_request(unknown));
  EXPECT_EQ(why.error, AuthError::kUnrecognizedClient);
  EXPECT_EQ(why.message, "The security token included in the request is invalid.");
  Request with_token = signed_request();
  with_token.set("X-Amz-Security-Token", "token");
  EXPECT_EQ(refusal(auth, with_token).error, AuthError::kUnrecognizedClient);
}

TEST(Authenticator, NoAuthorizationIsMissingAuthenticationToken) {
  const Authenticator auth(settings());
  Request req = signed_request();
  req.erase(http::field::authorization);
  const auto why = refusal(auth, req);
  EXPECT_EQ(why.error, AuthError::kMissingAuthenticationToken);
  EXPECT_EQ(why.message, "Missing Authentication Token");
}

TEST(Authenticator, AMalformedHeaderIsIncompleteSignature) {
  const Authenticator auth(settings());
  Request req = signed_request();
  req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=AKIDALL/20261203");
  EXPECT_EQ(refusal(auth, req).error, AuthError::kIncompleteSignature);
  Request no_date = signed_request();
  no_date.erase("X-Amz-Date");
  const auto why = refusal(auth, no_date);
  EXPECT_EQ(why.error, AuthError::kIncompleteSignature);
  EXPECT_NE(why.message.find("'X-Amz-Date' or a 'Date' header"), std::string::npos);
}

TEST(Authenticator, ATimeOutsideTheSkewIsSignatureExpiredOrNotYetCurrent) {
  Signing old;
  old.amz_date = "20261203T095459Z";  // 5 min 1 s before
  const auto expired = refusal(Authenticator(settings()), signed_request(old));
  EXPECT_EQ(expired.error, AuthError::kInvalidSignature);
  EXPECT_EQ(expired.message,
            "Signature expired: 20261203T095459Z is now earlier than 20261203T095500Z "
            "(20261203T100000Z - 5 min.)");
  Signing future;
  future.amz_date = "20261203T100501Z";
  const auto early = refusal(Authenticator(settings()), signed_request(future));
  EXPECT_EQ(early.error, AuthError::kInvalidSignature);
  EXPECT_EQ(early.message,
            "Signature not yet current: 20261203T100501Z is still later than 20261203T100500Z "
            "(20261203T100000Z + 5 min.)");
  Signing edge;
  edge.amz_date = "20261203T095500Z";  // exactly 5 min: still accepted
  EXPECT_TRUE(std::holds_alternative<const Credential*>(
      Authenticator(settings()).authenticate(signed_request(edge))));
}

// Years past 2262 do not fit system_clock's nanoseconds: X-Amz-Date is read in seconds, so
// the far future is "not yet current" rather than an overflow (found by tests/fuzz/sigv4_fuzz;
// its input is tests/fuzz/corpus/sigv4/crash-year-4052).
TEST(Authenticator, AFarFutureOrPastDateIsOutsideTheSkewNotAnOverflow) {
  Signing future;
  future.amz_date = "99991231T235959Z";
  const auto early = refusal(Authenticator(settings()), signed_request(future));
  EXPECT_EQ(early.error, AuthError::kInvalidSignature);
  EXPECT_EQ(early.message,
            "Signature not yet current: 99991231T235959Z is still later than 20261203T100500Z "
            "(20261203T100000Z + 5 min.)");
  Signing past;
  past.amz_date = "00010101T000000Z";
  const auto expired = refusal(Authenticator(settings()), signed_request(past));
  EXPECT_EQ(expired.error, AuthError::kInvalidSignature);
  EXPECT_EQ(expired.message,
            "Signature expired: 00010101T000000Z is now earlier than 20261203T095500Z "
            "(20261203T100000Z - 5 min.)");
}

TEST(Authenticator, TheSkewIsConfigurable) {
  AuthSettings wide = settings();
  wide.max_skew = std::chrono::minutes(15);
  Signing old;
  old.amz_date = "20261203T095000Z";  // 10 min before
  EXPECT_TRUE(std::holds_alternative<const Credential*>(
      Authenticator(std::move(wide)).authenticate(signed_request(old))));
}

TEST(Authenticator, AnotherRegionOrServiceIsInvalidSignatureNamingTheNodesRegion) {
  Signing elsewhere;
  elsewhere.region = "us-east-1";
  const auto why = refusal(Authenticator(settings()), signed_request(elsewhere));
  EXPECT_EQ(why.error, AuthError::kInvalidSignature);
  EXPECT_EQ(why.message,
            "Credential should be scoped to a valid region, not 'us-east-1'; this node's region "
            "is 'eu-west-1'.");
}

TEST(Authenticator, HostMustBeSignedAndEverySignedHeaderPresent) {
  Signing no_host;
  no_host.signed_headers = "content-type;x-amz-date";
  const auto why = refusal(Authenticator(settings()), signed_request(no_host));
  EXPECT_EQ(why.error, AuthError::kInvalidSignature);
  EXPECT_NE(why.message.find("'Host' must be a 'SignedHeader'"), std::string::npos);
  Request missing = signed_request();
  missing.erase(http::field::content_type);
  const auto gone = refusal(Authenticator(settings()), missing);
  EXPECT_EQ(gone.error, AuthError::kInvalidSignature);
  EXPECT_NE(gone.message.find("no 'content-type' header"), std::string::npos) << gone.message;
}

TEST(Authenticator, ContentSha256MustMatchTheBodyUnlessUnsigned) {
  const Authenticator auth(settings());
  Request wrong = signed_request();
  wrong.set("X-Amz-Content-Sha256", sigv4::sha256_hex("something else"));
  EXPECT_EQ(refusal(auth, wrong).error, AuthError::kInvalidSignature);
  Request right = signed_request();
  right.set("X-Amz-Content-Sha256", sigv4::sha256_hex(right.body()));
  EXPECT_TRUE(std::holds_alternative<const Credential*>(auth.authenticate(right)));
}

TEST(Authenticator, KeysOfTwoDaysBothVerifyAcrossTheCachedSigningKey) {
  // 23:59:59 and 00:00:01 straddle midnight: each is checked with its own day's key.
  const auto midnight = std::chrono::sys_days(std::chrono::year(2026) / std::chrono::December / 4);
  const Authenticator auth(settings(midnight));
  Signing before;
  before.amz_date = "20261203T235959Z";
  Signing after;
  after.amz_date = "20261204T000001Z";
  EXPECT_TRUE(std::holds_alternative<const Credential*>(auth.authenticate(signed_request(before))));
  EXPECT_TRUE(std::holds_alternative<const Credential*>(auth.authenticate(signed_request(after))));
  EXPECT_TRUE(std::holds_alternative<const Credential*>(auth.authenticate(signed_request(before))));
}

TEST(Authenticator, AllowListsNamesOrStar) {
  const Authenticator auth(settings());
  const Credential all{"AKIDALL", "x", {"*"}};
  const Credential some{"AKIDHELLO", "x", {"hello", "echo"}};
  EXPECT_FALSE(auth.authorize_invoke(all, "anything"));
  EXPECT_FALSE(auth.authorize_invoke(some, "echo"));
  const auto denied = auth.authorize_invoke(some, "secret-fn");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->error, AuthError::kAccessDenied);
  EXPECT_EQ(denied->message,
            "User with access key AKIDHELLO is not authorized to perform: lambda:InvokeFunction "
            "on resource: arn:aws:lambda:eu-west-1:123456789012:function:secret-fn because "
            "node.auth does not allow this key to invoke this function");
  EXPECT_FALSE(Authenticator::authorize_status(all));
  EXPECT_TRUE(Authenticator::authorize_status(some));
}

TEST(Authenticator, NoMessageCarriesASecret) {
  const Authenticator auth(settings());
  Signing wrong;
  wrong.secret = "not-the-secret";
  for (const Signing& s : {wrong, Signing{.key_id = "AKIDNOBODY"}, Signing{.region = "x"}}) {
    const auto why = refusal(auth, signed_request(s));
    EXPECT_EQ(why.message.find("secret-all"), std::string::npos) << why.message;
    EXPECT_EQ(why.message.find("secret/hello"), std::string::npos) << why.message;
  }
}

// make_invoke_api with node.auth behind a real server: every route checks first.
class CountingService : public InvokeService {
 public:
  boost::asio::awaitable<InvokeResult> invoke(InvokeRequest request) override {
    functions.push_back(request.function.name);
    co_return InvokeResult{.payload = R"({"ok":true})"};
  }
  std::vector<std::string> functions;
};

class NoStatus : public StatusService {
 public:
  boost::asio::awaitable<boost::json::object> status() override {
    co_return boost::json::object{{"functions", boost::json::array{}}};
  }
};

class InvokeApiWithAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    InvokeApiOptions options;
    options.status = &status_;
    // The real clock: the requests are signed with the time they are sent.
    AuthSettings with_real_clock = settings();
    with_real_clock.now = nullptr;
    options.auth = std::make_shared<const Authenticator>(std::move(with_real_clock));
    server_.emplace(loop_, make_invoke_api(service_, std::move(options)), invoke_api_limits());
    client_ = std::make_unique<test::RawClient>(loop_, server_->endpoint());
  }

  static std::string now_text() {
    const std::time_t t = system_clock::to_time_t(system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 17> out{};
    std::strftime(out.data(), out.size(), "%Y%m%dT%H%M%SZ", &tm);
    return {out.data(), 16};
  }

  Response exchange(const Request& req) {
    client_->send(test::wire(req));
    auto res = client_->receive();
    EXPECT_TRUE(res) << client_->last_error().message();
    return res ? *std::move(res) : Response{};
  }

  static void expect_error(const Response& res, http::status status, std::string_view type) {
    EXPECT_EQ(res.result(), status) << res.body();
    EXPECT_EQ(res["x-amzn-ErrorType"], type);
    EXPECT_EQ(res["x-amzn-RequestId"].size(), 36U);
    const auto body = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("Type").as_string(), "User");
    EXPECT_FALSE(body.at("Message").as_string().empty());
  }

  test::Loop loop_;
  CountingService service_;
  NoStatus status_;
  std::optional<test::LoopbackServer> server_;
  std::unique_ptr<test::RawClient> client_;
};

TEST_F(InvokeApiWithAuth, ASignedInvokeOfAnAllowedFunctionIsServed) {
  Signing s;
  s.amz_date = now_text();
  Signing hello_key = s;
  hello_key.key_id = "AKIDHELLO";
  hello_key.secret = "secret/hello+1";
  for (const Signing& who : {s, hello_key}) {
    Request req = signed_request(who);
    EXPECT_EQ(exchange(req).result(), http::status::ok);
  }
  // Event invocations are the same route with a header; the header is signed like any other.
  Signing event = s;
  event.signed_headers = "content-type;host;x-amz-date;x-amz-invocation-type";
  Request req{http::verb::post, "/2015-03-31/functions/hello%3A%24LATEST/invocations", 11};
  req.set(http::field::host, "127.0.0.1:9000");
  req.set(http::field::content_type, "application/json");
  req.set("X-Amz-Date", event.amz_date);
  req.set("X-Amz-Invocation-Type", "DryRun");
  req.body() = "{}";
  const std::string body_hash = sigv4::sha256_hex(req.body());  // outlives `what`, a view
  sigv4::SignedRequest what{
      .method = "POST", .target = req.target(), .headers = {}, .payload_hash = body_hash};
  for (const auto& field : req) what.headers.emplace_back(field.name_string(), field.value());
  req.set(
      http::field::authorization,
      sigv4::authorization_header(
          {.access_key_id = "AKIDALL", .secret_access_key = "secret-all", .region = "eu-west-1"},
          what, event.amz_date, event.signed_headers));
  EXPECT_EQ(exchange(req).result(), http::status::ok);
  EXPECT_EQ(service_.functions, (std::vector<std::string>{"hello", "hello", "hello"}));
}

TEST_F(InvokeApiWithAuth, RefusalsComeWithLambdasErrorTypeAndNeverReachTheService) {
  Signing s;
  s.amz_date = now_text();
  Signing wrong = s;
  wrong.secret = "wrong";
  expect_error(exchange(signed_request(wrong)), http::status::forbidden,
               "InvalidSignatureException");
  Signing unknown = s;
  unknown.key_id = "AKIDNOBODY";
  expect_error(exchange(signed_request(unknown)), http::status::forbidden,
               "UnrecognizedClientException");
  Signing limited = s;
  limited.key_id = "AKIDHELLO";
  limited.secret = "secret/hello+1";
  const auto denied =
      exchange(signed_request(limited,
                              "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A"
                              "123456789012%3Afunction%3Aprivate/invocations"));
  expect_error(denied, http::status::forbidden, "AccessDeniedException");
  EXPECT_NE(denied.body().find("function:private"), std::string::npos) << denied.body();
  Request unsigned_req{http::verb::post, "/2015-03-31/functions/hello/invocations", 11};
  unsigned_req.body() = "{}";
  expect_error(exchange(unsigned_req), http::status::forbidden,
               "MissingAuthenticationTokenException");
  // The streaming route and the status route check too.
  expect_error(
      exchange(signed_request(wrong, "/2021-11-15/functions/hello/response-streaming-invocations")),
      http::status::forbidden, "InvalidSignatureException");
  expect_error(exchange(signed_request(limited,
                                       "/2021-11-15/functions/private/"
                                       "response-streaming-invocations")),
               http::status::forbidden, "AccessDeniedException");
  Request status{http::verb::get, "/ember/v1/functions", 11};
  expect_error(exchange(status), http::status::forbidden, "MissingAuthenticationTokenException");
  EXPECT_TRUE(service_.functions.empty());
}

}  // namespace
}  // namespace ember::runtime_api
