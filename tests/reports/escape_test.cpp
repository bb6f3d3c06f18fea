#include <gtest/gtest.h>

#include "reports/escape.h"

namespace lnb::reports {
namespace {

TEST(HtmlEscape, HostileMarkupIsInert) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  EXPECT_EQ(html_escape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
  EXPECT_EQ(html_escape("caf\xC3\xA9 & co"), "caf\xC3\xA9 &amp; co");
}

TEST(HtmlEscape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(html_escape("a\xFF<"), "a\xEF\xBF\xBD&lt;");
  EXPECT_EQ(html_escape("\xC0\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '<'
}

TEST(HtmlEscape, BidiOverridesBecomeVisibleMarkers) {
  EXPECT_EQ(html_escape("a\xE2\x80\xAE" "b"), "a[U+202E]b");      // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(html_escape("x\xE2\x81\xA7y"), "x[U+2067]y");      // RIGHT-TO-LEFT ISOLATE
  EXPECT_EQ(html_escape("\xE2\x80\x94"), "\xE2\x80\x94");     // an em dash is left alone
}

TEST(CsvField, QuotesWhenNeededAndDisarmsFormulas) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("=cmd()"), "'=cmd()");
  EXPECT_EQ(csv_field("-1.5"), "-1.5");
  EXPECT_EQ(csv_field("line\nbreak"), "\"line\nbreak\"");
}

// RFC 4648 section 10's test vectors, and every byte value through a round trip of
// lengths 0..4 mod 3 (padding).
TEST(Base64, Rfc4648VectorsAndEveryByte) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe\x00", 3)), "//4A");
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string enc = base64(all);
  EXPECT_EQ(enc.size(), 344u);
  EXPECT_EQ(enc.substr(0, 8), "AAECAwQF");
  EXPECT_EQ(enc.substr(enc.size() - 8), "/P3+/w==");  // Python's base64.b64encode(bytes(range(256)))
}

}  // namespace
}  // namespace lnb::reports
