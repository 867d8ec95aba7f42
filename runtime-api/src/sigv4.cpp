#include "ember/runtime_api/sigv4.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>
#include <span>

#include "ember/runtime_api/hex.hpp"
#include "http_event.hpp"

namespace ember::runtime_api::sigv4 {
namespace {

const unsigned char* bytes(const char* data) {
  return reinterpret_cast<const unsigned char*>(data);  // NOLINT: OpenSSL takes bytes
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void append_encoded(std::string& out, std::string_view text, bool keep_slash) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4U]);
      out.push_back(kHex[c & 0xFU]);
    }
  }
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// A header value as signed: trimmed, inner runs of blanks made one space.
void append_header_value(std::string& out, std::string_view value) {
  value = trim(value);
  bool blank = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// SHA-256 is fetched once, HMAC once per thread (below). In OpenSSL 3 every call that names an
// algorithm (HMAC(), or an init with EVP_sha256()) looks it up in the provider store again,
// which costs more than hashing a 1 KB body. Kept for the life of the process. Should a fetch fail
// (a libcrypto without its default provider), every HMAC and hash below comes out empty and no
// signature matches: the check fails closed.
const EVP_MD* sha256_algorithm() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct FreeMacContext {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
struct FreeDigestContext {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// One HMAC-SHA256 context per thread with its digest set once; each use only sets the key
// (EVP_MAC_init with no parameters keeps the digest).
EVP_MAC_CTX* hmac_context() {
  thread_local const std::unique_ptr<EVP_MAC_CTX, FreeMacContext> ctx = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    std::unique_ptr<EVP_MAC_CTX, FreeMacContext> made(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);  // the context holds its own reference
    std::array<char, 7> digest{"SHA256"};
    const std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
        OSSL_PARAM_construct_end()};
    if (made) EVP_MAC_CTX_set_params(made.get(), params.data());
    return made;
  }();
  return ctx.get();
}

EVP_MD_CTX* digest_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, FreeDigestContext> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

Key hmac(std::string_view key, std::string_view data) {
  Key out{};
  std::size_t size = 0;
  EVP_MAC_CTX* ctx = hmac_context();
  if (ctx == nullptr || EVP_MAC_init(ctx, bytes(key.data()), key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, bytes(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out.data(), &size, out.size()) != 1) {
    return Key{};
  }
  return out;
}

std::string_view as_text(const Key& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};  // NOLINT: bytes as key text
}

// `AKID/DATE/REGION/SERVICE/TERMINATOR` into `out`; why not, when it is not that.
std::optional<std::string> read_credential(std::string_view credential, Authorization& out) {
  std::array<std::string*, 5> parts{&out.access_key_id, &out.date, &out.region, &out.service,
                                    &out.terminator};
  std::size_t index = 0;
  std::string_view scope = credential;
  while (index < parts.size()) {
    const auto slash = scope.find('/');
    *parts.at(index++) = std::string(scope.substr(0, slash));
    if (slash == std::string_view::npos) break;
    scope = scope.substr(slash + 1);
    if (index == parts.size()) return "Credential has too many '/' parts";
  }
  if (index != parts.size() || out.access_key_id.empty()) {
    return "Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request";
  }
  return std::nullopt;
}

}  // namespace

std::variant<Authorization, std::string> parse_authorization(std::string_view header) {
  header = trim(header);
  const auto space = header.find(' ');
  const std::string_view algorithm = header.substr(0, space);
  if (algorithm != kAlgorithm) {
    return "Unsupported AWS 'algorithm': '" + std::string(algorithm) + "'; expected " +
           std::string(kAlgorithm);
  }
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
  std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    const auto equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = part.substr(0, equals);
    const std::string_view value = part.substr(equals + 1);
    if (name == "Credential") credential = value;
    if (name == "SignedHeaders") signed_headers = value;
    if (name == "Signature") signature = value;
  }
  std::string missing;
  for (const auto& [name, value] :
       {std::pair{"Credential", credential}, std::pair{"SignedHeaders", signed_headers},
        std::pair{"Signature", signature}}) {
    if (value.empty()) {
      missing += std::string(missing.empty() ? "" : " ") + "Authorization header requires '" +
                 name + "' parameter.";
    }
  }
  if (!missing.empty()) return missing;

  Authorization out;
  if (auto why = read_credential(credential, out)) return *std::move(why);
  out.signed_headers = std::string(signed_headers);
  out.signature = std::string(signature);
  return out;
}

std::string canonical_uri(std::string_view path) {
  // botocore's remove_dot_segments: '.', '..' and empty segments go; the leading and a
  // trailing '/' stay.
  std::vector<std::string_view> segments;
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    append_encoded(out, segments[i], false);
  }
  if (!segments.empty() && path.ends_with('/')) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  while (true) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const auto equals = pair.find('=');
      std::string name;
      std::string value;
      append_encoded(name, http_event::percent_decode(pair.substr(0, equals)), false);
      if (equals != std::string_view::npos) {
        append_encoded(value, http_event::percent_decode(pair.substr(equals + 1)), false);
      }
      pairs.emplace_back(std::move(name), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::variant<std::string, MissingHeader> canonical_headers(const std::vector<Header>& headers,
                                                           std::string_view signed_headers) {
  std::string out;
  std::string_view rest = signed_headers;
  while (!rest.empty()) {
    const auto semicolon = rest.find(';');
    const std::string_view name = rest.substr(0, semicolon);
    rest = semicolon == std::string_view::npos ? "" : rest.substr(semicolon + 1);
    out.append(name).push_back(':');
    bool found = false;
    for (const auto& [header_name, value] : headers) {
      if (!iequals(header_name, name)) continue;
      if (found) out.push_back(',');
      found = true;
      append_header_value(out, value);
    }
    if (!found) return MissingHeader{std::string(name)};
    out.push_back('\n');
  }
  return out;
}

std::variant<std::string, MissingHeader> canonical_request(const SignedRequest& request,
                                                           std::string_view signed_headers) {
  auto headers = canonical_headers(request.headers, signed_headers);
  if (auto* missing = std::get_if<MissingHeader>(&headers)) return std::move(*missing);
  const auto question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : request.target.substr(question + 1);
  std::string out;
  out.reserve(request.target.size() * 2 + std::get<std::string>(headers).size() + 160);
  out.append(request.method).push_back('\n');
  out.append(canonical_uri(path)).push_back('\n');
  out.append(canonical_query(query)).push_back('\n');
  out.append(std::get<std::string>(headers)).push_back('\n');
  out.append(signed_headers).push_back('\n');
  out.append(request.payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  out.append(kAlgorithm).push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(sha256_hex(canonical_request));
  return out;
}

Key signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                std::string_view service) {
  std::string first = "AWS4";
  first.append(secret_access_key);
  const Key date_key = hmac(first, date);
  OPENSSL_cleanse(first.data(), first.size());
  const Key region_key = hmac(as_text(date_key), region);
  const Key service_key = hmac(as_text(region_key), service);
  return hmac(as_text(service_key), kTerminator);
}

std::string signature(const Key& key, std::string_view string_to_sign) {
  const Key mac = hmac(as_text(key), string_to_sign);
  return hex_encode(mac);
}

std::string amz_date(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 17> out{};
  std::strftime(out.data(), out.size(), "%Y%m%dT%H%M%SZ", &tm);
  return {out.data(), 16};
}

std::string authorization_header(const Signer& signer, const SignedRequest& request,
                                 std::string_view amz_date, std::string_view signed_headers) {
  const std::string date(amz_date.substr(0, 8));
  const std::string scope = date + "/" + std::string(signer.region) + "/" +
                            std::string(signer.service) + "/" + std::string(kTerminator);
  auto canonical = canonical_request(request, signed_headers);
  const std::string text =
      std::holds_alternative<std::string>(canonical)
          ? std::get<std::string>(canonical)
          : std::string("missing header ") + std::get<MissingHeader>(canonical).name;
  const Key key = signing_key(signer.secret_access_key, date, signer.region, signer.service);
  return std::string(kAlgorithm) + " Credential=" + std::string(signer.access_key_id) + "/" +
         scope + ", SignedHeaders=" + std::string(signed_headers) +
         ", Signature=" + signature(key, string_to_sign(amz_date, scope, text));
}

ClientSignature sign(const Signer& signer, std::string_view method, std::string_view target,
                     const std::vector<Header>& headers, std::string_view body,
                     std::chrono::system_clock::time_point now) {
  ClientSignature out{.amz_date = amz_date(now), .authorization = {}};
  SignedRequest request{.method = method, .target = target, .headers = {}, .payload_hash = {}};
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) {
    if (value.empty()) continue;
    request.headers.emplace_back(name, value);
    names.emplace_back(name);
  }
  request.headers.emplace_back("X-Amz-Date", out.amz_date);
  names.emplace_back("x-amz-date");
  for (auto& name : names) std::transform(name.begin(), name.end(), name.begin(), lower);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers;
  for (const auto& name : names) signed_headers.append(signed_headers.empty() ? "" : ";") += name;
  const std::string payload_hash = sha256_hex(body);
  request.payload_hash = payload_hash;
  out.authorization = authorization_header(signer, request, out.amz_date, signed_headers);
  return out;
}

std::vector<Header> header_views(std::span<const std::string> lines) {
  std::vector<Header> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) {
    const auto colon = std::min(line.find(':'), line.size());
    std::string_view value = std::string_view(line).substr(std::min(colon + 1, line.size()));
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out.emplace_back(std::string_view(line).substr(0, colon), value);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = digest_context();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, sha256_algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest.data(), &size) != 1) {
    return {};  // matches no hash a client sends: fails closed
  }
  return hex_encode(std::span(digest.data(), size));
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ember::runtime_api::sigv4
