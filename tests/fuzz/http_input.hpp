// The fuzz input as one HTTP/1.1 request, read by Beast's parser as the servers read it
// (runtime-api/src/http_server.cpp); nullopt when Beast refuses it, as the server would.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "ember/runtime_api/http_server.hpp"

namespace ember::fuzz {

inline std::optional<runtime_api::Request> http_request(const std::uint8_t* data,
                                                        std::size_t size) {
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1U << 20U);
  boost::beast::error_code ec;
  const auto used = parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done() || used == 0) return std::nullopt;
  return parser.release();
}

}  // namespace ember::fuzz
