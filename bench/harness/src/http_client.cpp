#include "ember/bench/http_client.hpp"

#include <curl/curl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <mutex>
#include <span>
#include <vector>

#include "ember/runtime_api/sigv4.hpp"

namespace ember::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kBodyLimit = 8 * 1024 * 1024;  // above Lambda's 6 MB response limit

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

namespace sigv4 = runtime_api::sigv4;

sigv4::ClientSignature sign(const client::AwsCredentials& as, std::string_view method,
                            std::string_view target, const std::vector<sigv4::Header>& headers,
                            std::string_view body) {
  const sigv4::Signer signer{.access_key_id = as.access_key_id,
                             .secret_access_key = as.secret_access_key,
                             .region = as.region,
                             .service = "lambda"};
  return sigv4::sign(signer, method, target, headers, body, std::chrono::system_clock::now());
}

class BeastClient final : public HttpClient {
 public:
  explicit BeastClient(const Endpoint& endpoint)
      : endpoint_(asio::ip::make_address_v4(endpoint.host), endpoint.port),
        host_(endpoint.host + ":" + std::to_string(endpoint.port)),
        sign_as_(endpoint.sign_as) {}

  HttpResult post(const std::string& target, std::string_view body, bool want_timings) override {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::content_type, "application/json");
    if (want_timings) req.set("X-Ember-Timings", "1");
    req.body() = std::string(body);
    return exchange(req);
  }

  HttpResult post_event(const std::string& target, std::string_view body) override {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::content_type, "application/json");
    req.set("X-Amz-Invocation-Type", "Event");
    req.body() = std::string(body);
    return exchange(req);
  }

  HttpResult get(const std::string& target) override {
    http::request<http::string_body> req{http::verb::get, target, 11};
    return exchange(req);
  }

 private:
  HttpResult exchange(http::request<http::string_body>& req) {
    req.set(http::field::host, host_);
    req.prepare_payload();
    if (sign_as_) {
      std::vector<sigv4::Header> headers;
      for (const auto& field : req) headers.emplace_back(field.name_string(), field.value());
      auto signature = sign(*sign_as_, req.method_string(), req.target(), headers, req.body());
      req.set("X-Amz-Date", signature.amz_date);
      req.set(http::field::authorization, signature.authorization);
    }
    HttpResult out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      boost::system::error_code ec;
      const auto start = Clock::now();
      const bool reused = socket_.is_open();
      if (!reused) {
        socket_.connect(endpoint_, ec);
        if (ec) {
          socket_.close(ec);
          out.error = "connect " + host_ + ": " + ec.message();
          return out;
        }
        socket_.set_option(tcp::no_delay(true), ec);
        buffer_.clear();
      }
      http::write(socket_, req, ec);
      http::response_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      if (!ec) http::read(socket_, buffer_, parser, ec);
      if (ec) {
        out.error = ec.message();
        socket_.close(ec);
        // Only a reused keep-alive connection may have been closed by the server meanwhile;
        // a fresh one failing is a real failure.
        if (reused) continue;
        return out;
      }
      out.total_us = us_since(start);
      auto& res = parser.get();
      out.ok = true;
      out.status = static_cast<int>(res.result_int());
      if (const auto it = res.find("X-Ember-Timings"); it != res.end()) {
        out.timings = std::string(it->value());
      }
      out.function_error = res.find("X-Amz-Function-Error") != res.end();
      if (const auto it = res.find("X-Amzn-RequestId"); it != res.end()) {
        out.request_id = std::string(it->value());
      }
      out.body = std::move(res.body());
      if (!res.keep_alive()) socket_.close(ec);
      return out;
    }
    return out;
  }

  asio::io_context io_;
  tcp::endpoint endpoint_;
  std::string host_;
  std::optional<client::AwsCredentials> sign_as_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
};

struct FreeHeaderList {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, FreeHeaderList>;

// "Name: value" lines as libcurl takes them.
HeaderList header_list(std::span<const std::string> lines) {
  curl_slist* list = nullptr;
  for (const auto& line : lines) list = curl_slist_append(list, line.c_str());
  return HeaderList(list);
}

// What every request the curl client sends carries; "Expect:" drops libcurl's
// "Expect: 100-continue" round trip for larger bodies.
std::vector<std::string> header_lines(std::string_view extra) {
  std::vector<std::string> lines{"Expect:", "Content-Type: application/json"};
  if (!extra.empty()) lines.emplace_back(extra);
  return lines;
}

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(const Endpoint& endpoint)
      : base_(endpoint.url()),
        host_(endpoint.host + ":" + std::to_string(endpoint.port)),
        sign_as_(endpoint.sign_as),
        curl_(new_handle()),
        plain_lines_(header_lines("")),
        timed_lines_(header_lines("X-Ember-Timings: 1")),
        event_lines_(header_lines("X-Amz-Invocation-Type: Event")),
        plain_(header_list(plain_lines_)),
        timed_(header_list(timed_lines_)),
        event_(header_list(event_lines_)) {
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
  }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;
  CurlClient(CurlClient&&) = delete;
  CurlClient& operator=(CurlClient&&) = delete;
  ~CurlClient() override { curl_easy_cleanup(curl_); }

  HttpResult post(const std::string& target, std::string_view body, bool want_timings) override {
    return want_timings ? post_with(target, body, timed_lines_, timed_.get())
                        : post_with(target, body, plain_lines_, plain_.get());
  }

  HttpResult post_event(const std::string& target, std::string_view body) override {
    return post_with(target, body, event_lines_, event_.get());
  }

  HttpResult get(const std::string& target) override {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    const HeaderList signed_list = signed_headers("GET", target, "", plain_lines_);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, signed_list ? signed_list.get() : plain_.get());
    return perform(target);
  }

 private:
  // `lines` with Host, X-Amz-Date and Authorization signing them, when the endpoint wants
  // signed requests; else none, and the prepared list is used.
  [[nodiscard]] HeaderList signed_headers(std::string_view method, std::string_view target,
                                          std::string_view body,
                                          const std::vector<std::string>& lines) const {
    if (!sign_as_) return nullptr;
    std::vector<std::string> all = lines;
    all.push_back("Host: " + host_);
    const auto signature = sign(*sign_as_, method, target, sigv4::header_views(all), body);
    all.push_back("X-Amz-Date: " + signature.amz_date);
    all.push_back("Authorization: " + signature.authorization);
    return header_list(all);
  }

  // curl_global_init once per process, before the first handle (curl_easy_init would do it
  // itself, but not thread-safely).
  static CURL* new_handle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    return curl_easy_init();
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<HttpResult*>(user)->body.append(data, size * n);
    return size * n;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    const std::string_view line(data, size * n);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return size * n;
    const auto name = line.substr(0, colon);
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
    auto* out = static_cast<HttpResult*>(user);
    if (beast::iequals(name, "X-Ember-Timings")) out->timings = std::string(value);
    if (beast::iequals(name, "X-Amz-Function-Error")) out->function_error = true;
    if (beast::iequals(name, "X-Amzn-RequestId")) out->request_id = std::string(value);
    return size * n;
  }

  HttpResult post_with(const std::string& target, std::string_view body,
                       const std::vector<std::string>& lines, curl_slist* prepared) {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    const HeaderList signed_list = signed_headers("POST", target, body, lines);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, signed_list ? signed_list.get() : prepared);
    return perform(target);
  }

  HttpResult perform(const std::string& target) {
    HttpResult out;
    const std::string url = base_ + target;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &out);
    const auto start = Clock::now();
    const CURLcode rc = curl_easy_perform(curl_);
    out.total_us = us_since(start);
    if (rc != CURLE_OK) {
      out.error = curl_easy_strerror(rc);
      return out;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
    out.ok = true;
    return out;
  }

  std::string base_;
  std::string host_;
  std::optional<client::AwsCredentials> sign_as_;
  CURL* curl_ = nullptr;
  std::vector<std::string> plain_lines_;
  std::vector<std::string> timed_lines_;
  std::vector<std::string> event_lines_;
  HeaderList plain_;
  HeaderList timed_;
  HeaderList event_;
};

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  if (text.starts_with("http://")) text.remove_prefix(7);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Endpoint out;
  out.host = std::string(text.substr(0, colon));
  boost::system::error_code ec;
  asio::ip::make_address_v4(out.host, ec);
  if (ec) return std::nullopt;
  const auto port = text.substr(colon + 1);
  const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (err != std::errc{} || end != port.data() + port.size() || out.port == 0) return std::nullopt;
  return out;
}

std::unique_ptr<HttpClient> make_client(ClientKind kind, const Endpoint& endpoint) {
  if (kind == ClientKind::kCurl) return std::make_unique<CurlClient>(endpoint);
  return std::make_unique<BeastClient>(endpoint);
}

std::string invoke_target(std::string_view function) {
  return "/2015-03-31/functions/" + std::string(function) + "/invocations";
}

}  // namespace ember::bench
