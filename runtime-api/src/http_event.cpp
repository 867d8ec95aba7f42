#include "http_event.hpp"

#include <openssl/evp.h>

#include <array>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <random>
#include <span>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/hex.hpp"

namespace ember::runtime_api::http_event {

namespace http = boost::beast::http;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict UTF-8 (no overlongs, no surrogates): JSON strings must hold it.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80U) {
      ++i;
      continue;
    }
    if ((c & 0xE0U) == 0xC0U) {
      extra = 1;
      code = c & 0x1FU;
    } else if ((c & 0xF0U) == 0xE0U) {
      extra = 2;
      code = c & 0x0FU;
    } else if ((c & 0xF8U) == 0xF0U) {
      extra = 3;
      code = c & 0x07U;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) return false;
      code = (code << 6U) | (next & 0x3FU);
    }
    constexpr std::array<std::uint32_t, 4> kSmallest = {0, 0x80, 0x800, 0x10000};
    if (code < kSmallest.at(extra) || code > 0x10FFFFU || (code >= 0xD800U && code <= 0xDFFFU)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// "Root=1-5f84c7a9-0123456789abcdef01234567", as X-Ray makes them.
std::string trace_id(std::chrono::system_clock::time_point at) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch());
  std::string text = "Root=1-";
  append_hex(text, static_cast<std::uint64_t>(seconds.count()), 8);
  text.push_back('-');
  append_hex(text, random(), 8);
  append_hex(text, random(), 16);
  return text;
}

}  // namespace

std::string_view raw_path(const Request& request) {
  const std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

std::string_view raw_query(const Request& request) {
  const std::string_view target = request.target();
  const auto mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
}

Pairs split_query(std::string_view query) {
  Pairs pairs;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    if (!part.empty()) {
      const auto eq = part.find('=');
      pairs.emplace_back(std::string(part.substr(0, eq)), eq == std::string_view::npos
                                                              ? std::string()
                                                              : std::string(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return pairs;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

Pairs forwarded_headers(const Call& call) {
  Pairs headers;
  std::string forwarded_for;
  std::string trace;
  for (const auto& field : call.request) {
    std::string name = lower(field.name_string());
    if (name == "x-forwarded-for") {
      forwarded_for = std::string(field.value());
      continue;
    }
    if (name == "x-forwarded-port" || name == "x-forwarded-proto") continue;
    if (name == "x-amzn-trace-id") trace = std::string(field.value());
    headers.emplace_back(std::move(name), std::string(field.value()));
  }
  const std::string client = call.peer.remote.address().to_string();
  headers.emplace_back("x-forwarded-for",
                       forwarded_for.empty() ? client : forwarded_for + ", " + client);
  headers.emplace_back("x-forwarded-port", std::to_string(call.peer.local.port()));
  headers.emplace_back("x-forwarded-proto", "http");
  if (trace.empty()) headers.emplace_back("x-amzn-trace-id", trace_id(call.received));
  return headers;
}

bool is_text_body(std::string_view content_type, std::string_view body, bool function_url) {
  std::string type = lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  const bool text = type.starts_with("text/") || type == "application/json" ||
                    type == "application/javascript" || type == "application/xml" ||
                    (function_url && (type.ends_with("+json") || type.ends_with("+xml") ||
                                      type == "application/x-www-form-urlencoded"));
  return text && is_utf8(body);
}

void put_body(boost::json::object& event, const Request& request, bool function_url,
              bool omit_empty) {
  const std::string& body = request.body();
  if (body.empty()) {
    if (!omit_empty) event["body"] = "";
    event["isBase64Encoded"] = false;
    return;
  }
  if (is_text_body(request[http::field::content_type], body, function_url)) {
    event["body"] = body;
    event["isBase64Encoded"] = false;
  } else {
    event["body"] = base64_encode(body);
    event["isBase64Encoded"] = true;
  }
}

std::string hex_id(std::string_view text, std::size_t length) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  std::string out = hex_encode(std::span(digest.data(), size));
  out.resize(std::min(out.size(), length));
  return out;
}

bool is_hop_by_hop(std::string_view name) {
  const std::string n = lower(name);
  return n == "connection" || n == "keep-alive" || n == "transfer-encoding" || n == "upgrade" ||
         n == "content-length" || n == "te" || n == "trailer" || n == "proxy-connection";
}

}  // namespace ember::runtime_api::http_event
