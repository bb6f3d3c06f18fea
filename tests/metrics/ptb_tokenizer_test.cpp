// The tokenizer behaviours listed in specs/metrics.md §1.2, each checked against the
// string the CoreNLP 3.4.1 jar + pycocoevalcap filter produce (verified with the jar;
// the broad parity sweep is tests/metrics/ptb_parity.py against pycocoevalcap).
#include <gtest/gtest.h>

#include "metrics/ptb_tokenizer.h"

namespace lnb::metrics {
namespace {

struct Case {
  const char* in;
  const char* out;
};

class PtbCases : public ::testing::TestWithParam<Case> {};

TEST_P(PtbCases, MatchesTheJar) { EXPECT_EQ(coco_tokenize_one(GetParam().in), GetParam().out) << GetParam().in; }

INSTANTIATE_TEST_SUITE_P(
    Spec, PtbCases,
    ::testing::Values(
        Case{"A dog (brown).", "a dog -lrb- brown -rrb-"},
        Case{"It's a dog's toy, isn't it? I can't; won't! Don't.", "it 's a dog 's toy is n't it i ca n't wo n't do n't"},
        Case{"\"Hello,\" she said. 'Yes' `x`", "hello she said yes x"},
        Case{"cannot gonna gotta lemme gimme wanna 'tis 'twas", "can not gon na got ta lem me gim me wan na 't is 't was"},
        Case{"y'all o'clock rock 'n' roll '90s", "y' all o'clock rock 'n' roll '90s"},
        Case{"t-shirt black-and-white 20-year-old x-ray www.example.com e.g. 50/50 tv/dvd a/an a_b c__d",
             "t-shirt black-and-white 20-year-old x-ray www.example.com e.g. 50/50 tv/dvd a/an a_b c __ d"},
        Case{"1,000 2.5 3:30 1/2 $5 10% #1 100+", "1,000 2.5 3:30 1/2 $ 5 10 % # 1 100 +"},
        Case{"3:30-5:00", "3:30 -5:00"},
        Case{"mr. smith dr. no st. mt. etc. inc. jan. p.m. u.s. a.b.c. e.g. i.e.",
             "mr. smith dr. no st. mt. etc. inc. jan. p.m. u.s. a.b.c. e.g. i.e."},
        Case{"the letter a. vitamin c.", "the letter a. vitamin c."},
        Case{"wow?! really!! what?? hi..", "wow ?! really !! what ?? hi"},
        Case{"dash - and -- and --- and ---- and ----- ok", "dash and and and and ----- ok"},
        Case{"wait... so . . . yes\xE2\x80\xA6 end", "wait so yes end"},
        Case{"\xC2\xA3" "5 \xE2\x82\xAC" "5 5\xC2\xA2 \xC2\xBD \xC2\xBC", "# 5 $ 5 5 cents 1/2 1/4"},
        Case{"&amp; &lt; <b>bold</b> http://x.com/a?b=c me@x.org", "& < <b> bold </b> http://x.com/a?b=c me@x.org"},
        Case{"\xE2\x80\x9C" "curly\xE2\x80\x9D en\xE2\x80\x93" "dash", "curly en dash"},
        Case{"emoji \xF0\x9F\x98\x80 here caf\xC3\xA9 \xC3\x9Cn\xC3\xAF" "code", "emoji here caf\xC3\xA9 \xC3\xBCn\xC3\xAF" "code"},
        Case{"\xC4\xB0stanbul \xCE\xA3\xCE\x91\xCE\xA3", "i\xCC\x87stanbul \xCF\x83\xCE\xB1\xCF\x82"},
        Case{"dogs' toys. The U.S. Army. I.B.M. is big.", "dogs toys the u.s. army i.b.m. is big"},
        Case{"Mr.Smith  ran.Fast dogs,cats;birds:fish", "mr.smith ran.fast dogs cats birds fish"},
        Case{"No. 5 no. co. fig. A.", "no. 5 no co. fig a."},
        Case{":) :-)", ":-rrb- :--rrb-"},
        Case{"3 1/2 cups", "3\xC2\xA0" "1/2 cups"},
        Case{"", ""},
        Case{"   ", ""}));

TEST(CocoTokenize, CarriageReturnMisalignsLaterCaptions) {
  // "\r" inside a caption makes the jar emit an extra line: caption 2 gets the tail of
  // caption 1, caption 3 gets caption 2's line (reproduced on purpose).
  size_t missing = 0;
  const auto out = coco_tokenize({"a red\rcar", "blue sky", "green tree"}, &missing);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "a red");
  EXPECT_EQ(out[1], "car");
  EXPECT_EQ(out[2], "blue sky");
  EXPECT_EQ(missing, 0u);
}

TEST(CocoTokenize, NewlineInsideACaptionIsASpace) {
  const auto out = coco_tokenize({"a red\ncar", "sky"});
  EXPECT_EQ(out[0], "a red car");
  EXPECT_EQ(out[1], "sky");
}

TEST(CocoTokenize, CarriageReturnAtTheEndJoinsTheSeparator) {
  // "x\r" + "\n" + "y" is "\r\n": one line break, so nothing shifts.
  const auto out = coco_tokenize({"x\r", "y"});
  EXPECT_EQ(out[0], "x");
  EXPECT_EQ(out[1], "y");
}

}  // namespace
}  // namespace lnb::metrics

namespace lnb::metrics {
namespace {

TEST(CocoTokenize, GroupedIsOneRunAcrossImages) {
  // One run over all images: a '\r' in image 0's last caption shifts image 1's lines,
  // exactly as pycocoevalcap's single tokenizer run does.
  const auto g = coco_tokenize_grouped({{"A dog.", "a red\rcar"}, {"Two cats."}, {}});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0], (std::vector<std::string>{"a dog", "a red"}));
  EXPECT_EQ(g[1], (std::vector<std::string>{"car"}));
  EXPECT_TRUE(g[2].empty());
}

}  // namespace
}  // namespace lnb::metrics
