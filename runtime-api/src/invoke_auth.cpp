#include "ember/runtime_api/invoke_auth.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <mutex>

#include "ember/runtime_api/function_ref.hpp"

namespace ember::runtime_api {
namespace {

using Clock = std::chrono::system_clock;

AuthRefusal refuse(AuthError error, std::string message) { return {error, std::move(message)}; }

// "YYYYMMDDTHHMMSSZ" (X-Amz-Date) as a time; nullopt for anything else. In whole seconds:
// system_clock's nanoseconds end in 2262, and a later year overflowed them (UB, found by
// tests/fuzz/sigv4_fuzz).
std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t digits) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(4, 2);
  const auto day = number(6, 2);
  const auto hour = number(9, 2);
  const auto minute = number(11, 2);
  const auto second = number(13, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second);
}

// The Date header (RFC 1123, "Thu, 03 Dec 2026 07:48:53 GMT") as X-Amz-Date's form.
std::optional<std::string> amz_date_of_http_date(std::string_view text) {
  std::tm tm{};
  const std::string copy(text);
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::array<char, 17> out{};
  if (std::strftime(out.data(), out.size(), "%Y%m%dT%H%M%SZ", &tm) != 16) return std::nullopt;
  return std::string(out.data(), 16);
}

std::string format_amz_date(Clock::time_point at) {
  const std::time_t t = Clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 17> out{};
  std::strftime(out.data(), out.size(), "%Y%m%dT%H%M%SZ", &tm);
  return {out.data(), 16};
}

std::string skew_text(std::chrono::seconds skew) {
  return skew.count() % 60 == 0 ? std::to_string(skew.count() / 60) + " min."
                                : std::to_string(skew.count()) + " sec.";
}

// Lambda's words when the request's time is outside the node's window.
std::optional<AuthRefusal> check_time(std::string_view amz_date, Clock::time_point now,
                                      std::chrono::seconds skew) {
  const auto at = parse_amz_date(amz_date);
  if (!at) {
    return refuse(AuthError::kIncompleteSignature,
                  "X-Amz-Date '" + std::string(amz_date) + "' is not of the form YYYYMMDDTHHMMSSZ");
  }
  // Compared in seconds, where every year 0000-9999 fits.
  const auto now_s = std::chrono::floor<std::chrono::seconds>(now);
  if (*at < now_s - skew) {
    return refuse(AuthError::kInvalidSignature,
                  "Signature expired: " + std::string(amz_date) + " is now earlier than " +
                      format_amz_date(now - skew) + " (" + format_amz_date(now) + " - " +
                      skew_text(skew) + ")");
  }
  if (*at > now_s + skew) {
    return refuse(AuthError::kInvalidSignature,
                  "Signature not yet current: " + std::string(amz_date) + " is still later than " +
                      format_amz_date(now + skew) + " (" + format_amz_date(now) + " + " +
                      skew_text(skew) + ")");
  }
  return std::nullopt;
}

bool lists(std::string_view signed_headers, std::string_view name) {
  std::string_view rest = signed_headers;
  while (!rest.empty()) {
    const auto semicolon = rest.find(';');
    if (rest.substr(0, semicolon) == name) return true;
    if (semicolon == std::string_view::npos) break;
    rest = rest.substr(semicolon + 1);
  }
  return false;
}

std::optional<AuthRefusal> check_scope(const sigv4::Authorization& auth, std::string_view amz_date,
                                       const AuthSettings& settings) {
  if (auth.date != amz_date.substr(0, 8)) {
    return refuse(AuthError::kInvalidSignature,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      auth.date + "' != '" + std::string(amz_date.substr(0, 8)) + "', from '" +
                      std::string(amz_date) + "'.");
  }
  if (auth.region != settings.region) {
    return refuse(AuthError::kInvalidSignature,
                  "Credential should be scoped to a valid region, not '" + auth.region +
                      "'; this node's region is '" + settings.region + "'.");
  }
  if (auth.service != settings.service) {
    return refuse(AuthError::kInvalidSignature,
                  "Credential should be scoped to correct service: '" + settings.service + "'.");
  }
  if (auth.terminator != sigv4::kTerminator) {
    return refuse(AuthError::kInvalidSignature,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      auth.terminator + "'.");
  }
  if (!lists(auth.signed_headers, "host")) {
    return refuse(AuthError::kInvalidSignature,
                  "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return std::nullopt;
}

constexpr std::string_view kBadSignature =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

}  // namespace

struct Authenticator::CachedKey {
  std::mutex mutex;
  std::string date;  // empty: none derived yet
  sigv4::Key key{};
};

Authenticator::Authenticator(AuthSettings settings) : settings_(std::move(settings)) {
  for (std::size_t i = 0; i < settings_.credentials.size(); ++i) {
    by_key_id_.emplace(settings_.credentials[i].access_key_id, i);
    cache_.push_back(std::make_unique<CachedKey>());
  }
}

Authenticator::~Authenticator() {
  for (const auto& cached : cache_) OPENSSL_cleanse(cached->key.data(), cached->key.size());
}

sigv4::Key Authenticator::key_for(std::size_t index, std::string_view date) const {
  CachedKey& cached = *cache_[index];
  const std::lock_guard lock(cached.mutex);
  if (cached.date != date) {
    cached.key = sigv4::signing_key(settings_.credentials[index].secret_access_key, date,
                                    settings_.region, settings_.service);
    cached.date = std::string(date);
  }
  return cached.key;
}

std::variant<const Credential*, AuthRefusal> Authenticator::authenticate(const Request& req) const {
  const auto header = req[boost::beast::http::field::authorization];
  if (header.empty()) {
    if (std::string_view(req.target()).find("X-Amz-Signature=") != std::string_view::npos) {
      return refuse(AuthError::kIncompleteSignature,
                    "Presigned requests (X-Amz-Signature in the query) are not supported; sign "
                    "with the Authorization header");
    }
    return refuse(AuthError::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  auto parsed = sigv4::parse_authorization(header);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return refuse(AuthError::kIncompleteSignature, std::move(*why));
  }
  const auto& auth = std::get<sigv4::Authorization>(parsed);
  const auto known = by_key_id_.find(auth.access_key_id);
  if (known == by_key_id_.end() || !req["X-Amz-Security-Token"].empty()) {
    return refuse(AuthError::kUnrecognizedClient,
                  "The security token included in the request is invalid.");
  }

  std::string amz_date(req["X-Amz-Date"]);
  if (amz_date.empty()) {
    const auto http_date = req[boost::beast::http::field::date];
    if (http_date.empty()) {
      return refuse(AuthError::kIncompleteSignature,
                    "Authorization header requires existence of either a 'X-Amz-Date' or a "
                    "'Date' header.");
    }
    auto converted = amz_date_of_http_date(http_date);
    if (!converted) {
      return refuse(AuthError::kIncompleteSignature,
                    "Date header '" + std::string(http_date) + "' is not an RFC 1123 date");
    }
    amz_date = std::move(*converted);
  }
  const auto now = settings_.now ? settings_.now() : Clock::now();
  if (auto refusal = check_time(amz_date, now, settings_.max_skew)) return *std::move(refusal);
  if (auto refusal = check_scope(auth, amz_date, settings_)) return *std::move(refusal);

  std::string payload_hash = sigv4::sha256_hex(req.body());
  if (const auto sent = req["X-Amz-Content-Sha256"]; !sent.empty()) {
    if (sent == sigv4::kUnsignedPayload) {
      payload_hash = std::string(sent);
    } else if (sent != payload_hash) {
      return refuse(AuthError::kInvalidSignature,
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
    }
  }
  sigv4::SignedRequest request{.method = req.method_string(),
                               .target = req.target(),
                               .headers = {},
                               .payload_hash = payload_hash};
  request.headers.reserve(16);
  for (const auto& field : req) request.headers.emplace_back(field.name_string(), field.value());
  auto canonical = sigv4::canonical_request(request, auth.signed_headers);
  if (auto* missing = std::get_if<sigv4::MissingHeader>(&canonical)) {
    return refuse(AuthError::kInvalidSignature,
                  "The request has no '" + missing->name + "' header, which SignedHeaders lists");
  }
  const std::string to_sign =
      sigv4::string_to_sign(amz_date, auth.scope(), std::get<std::string>(canonical));
  const std::string expected = sigv4::signature(key_for(known->second, auth.date), to_sign);
  if (!sigv4::equal_in_constant_time(expected, auth.signature)) {
    return refuse(AuthError::kInvalidSignature, std::string(kBadSignature));
  }
  return &settings_.credentials[known->second];
}

std::optional<AuthRefusal> Authenticator::authorize_invoke(const Credential& credential,
                                                           std::string_view function) const {
  const bool allowed =
      std::any_of(credential.allow.begin(), credential.allow.end(),
                  [&](const std::string& name) { return name == "*" || name == function; });
  if (allowed) return std::nullopt;
  return refuse(AuthError::kAccessDenied,
                "User with access key " + credential.access_key_id +
                    " is not authorized to perform: lambda:InvokeFunction on resource: " +
                    function_arn(settings_.region, settings_.account_id, function) +
                    " because node.auth does not allow this key to invoke this function");
}

std::optional<AuthRefusal> Authenticator::authorize_status(const Credential& credential) {
  if (std::find(credential.allow.begin(), credential.allow.end(), "*") != credential.allow.end()) {
    return std::nullopt;
  }
  return refuse(AuthError::kAccessDenied,
                "User with access key " + credential.access_key_id +
                    " is not authorized to read the node's status or manage its functions: "
                    "GET /ember/v1/functions and the control plane need a key whose node.auth "
                    "allow list is \"*\"");
}

}  // namespace ember::runtime_api
