// html_escape, which the status page and `ember bench --report` put all text through.
#include "ember/runtime_api/html.hpp"

#include <gtest/gtest.h>

namespace ember::runtime_api {
namespace {

TEST(HtmlEscape, TurnsEveryMarkupCharacterIntoAReference) {
  EXPECT_EQ(html_escape(R"(<a href="x" title='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(HtmlEscape, LeavesOtherTextAsItIs) {
  EXPECT_EQ(html_escape("plain text, UTF-8 \xc3\xa9 and &amp"),
            "plain text, UTF-8 \xc3\xa9 and &amp;amp");
  EXPECT_EQ(html_escape(""), "");
}

}  // namespace
}  // namespace ember::runtime_api
