// AWS Signature Version 4 (AWS4-HMAC-SHA256), the pieces a server needs to check what the AWS
// CLI and SDKs sign: the Authorization header, the canonical request, the string to sign and
// the signature. Pure functions; HMAC and SHA-256 come from OpenSSL's libcrypto.
#pragma once

#include <array>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ember::runtime_api::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";
// x-amz-content-sha256's value for a body the signature does not cover.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=HEX`, taken apart.
struct Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::string terminator;
  std::string signed_headers;  // as sent: lower-case names joined by ';'
  std::string signature;       // 64 lower-case hex digits, as sent
  [[nodiscard]] std::string scope() const {
    return date + "/" + region + "/" + service + "/" + terminator;
  }
};

// The parts, or why the header is not a SigV4 Authorization (IncompleteSignatureException's
// message, in AWS's words where they are known).
std::variant<Authorization, std::string> parse_authorization(std::string_view header);

// One header of the request as received (any case; repeated names appear repeatedly).
using Header = std::pair<std::string_view, std::string_view>;

// What a signature covers, as the server received it.
struct SignedRequest {
  std::string_view method;  // "POST"
  std::string_view target;  // the request target, path and query still percent-encoded
  std::vector<Header> headers;
  std::string_view payload_hash;  // hex SHA-256 of the body, or UNSIGNED-PAYLOAD
};

// The path as the signer saw it: dot segments and empty segments removed (botocore's
// remove_dot_segments), then every byte but A-Z a-z 0-9 - _ . ~ / percent-encoded, '%'
// included: the received, already encoded, path is encoded a second time, as every service
// but S3 signs it (`/functions/f%3Aprod` -> `/functions/f%253Aprod`).
std::string canonical_uri(std::string_view path);

// The query's `name=value` pairs, each decoded then encoded again (upper-case hex, space as
// %20), sorted by name then value, joined by '&'; a pair without '=' has an empty value.
std::string canonical_query(std::string_view query);

// A signed header the request does not have: the request cannot match its signature.
struct MissingHeader {
  std::string name;
};

// `name:value\n` for each of the signed headers (`signed_headers`, ';'-separated, lower
// case): the values of every header of that name joined by ',', each trimmed with inner
// runs of spaces and tabs made one space.
std::variant<std::string, MissingHeader> canonical_headers(const std::vector<Header>& headers,
                                                           std::string_view signed_headers);

// METHOD \n URI \n QUERY \n HEADERS \n SIGNED_HEADERS \n PAYLOAD_HASH.
std::variant<std::string, MissingHeader> canonical_request(const SignedRequest& request,
                                                           std::string_view signed_headers);

// AWS4-HMAC-SHA256 \n AMZ_DATE \n SCOPE \n hex(SHA-256(canonical request)).
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

using Key = std::array<unsigned char, 32>;

// HMAC chain from "AWS4" + secret over date, region, service and "aws4_request".
Key signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                std::string_view service);

// hex(HMAC-SHA256(key, string_to_sign)).
std::string signature(const Key& key, std::string_view string_to_sign);

// The client's side, for ember's own clients and the tests: the Authorization header for
// `request`, whose headers must already hold every name in `signed_headers` (host and
// x-amz-date among them).
struct Signer {
  std::string_view access_key_id;
  std::string_view secret_access_key;
  std::string_view region;
  std::string_view service = "lambda";
};
std::string authorization_header(const Signer& signer, const SignedRequest& request,
                                 std::string_view amz_date, std::string_view signed_headers);

// The X-Amz-Date of `when` ("20261203T091500Z", UTC), for a signer.
std::string amz_date(std::chrono::system_clock::time_point when);

// What a client adds to a request to sign it as the AWS CLI does: the body, every header in
// `headers` (Host among them; those without a value are left out, as they are not sent) and
// X-Amz-Date are signed.
struct ClientSignature {
  std::string amz_date;       // X-Amz-Date's value
  std::string authorization;  // Authorization's value
};
ClientSignature sign(const Signer& signer, std::string_view method, std::string_view target,
                     const std::vector<Header>& headers, std::string_view body,
                     std::chrono::system_clock::time_point now);

// `Name: value` lines, as libcurl takes headers, as Headers (views into `lines`).
std::vector<Header> header_views(std::span<const std::string> lines);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Equal text, compared in time that depends only on the lengths (CRYPTO_memcmp).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace ember::runtime_api::sigv4
