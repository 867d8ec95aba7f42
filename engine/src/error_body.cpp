#include "error_body.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace ember::engine {

std::string error_body(std::string_view error_type, std::string_view message) {
  boost::json::object body;
  body["errorMessage"] = message;
  body["errorType"] = error_type;
  return boost::json::serialize(body);
}

}  // namespace ember::engine
