// Text placed into HTML: the node's status page and `ember bench --report`.
#pragma once

#include <string>
#include <string_view>

namespace ember::runtime_api {

// `text` as HTML character data or a quoted attribute value: & < > " ' become references, so
// nothing in it (a function's handler, an error type a runtime chose) can open a tag or end
// an attribute.
std::string html_escape(std::string_view text);

}  // namespace ember::runtime_api
