// common/json_io: the depth scan against a slow reference (nlohmann's own parser
// callbacks report every container's depth), bounded excerpts, and errors that name
// the source.
#include "common/json_io.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "common/errors.h"

namespace lnb::common {
namespace {

using nlohmann::json;

// Slow twin of json_depth_violation for valid JSON: the deepest container nlohmann sees.
int reference_depth(const std::string& text) {
  int deepest = 0;
  const json parsed = json::parse(text, [&deepest](int depth, json::parse_event_t e, json&) {
    if (e == json::parse_event_t::object_start || e == json::parse_event_t::array_start) deepest = std::max(deepest, depth + 1);
    return true;
  });
  (void)parsed;
  return deepest;
}

std::string random_json(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> pick(0, 5);
  const int k = depth > 12 ? 4 + pick(rng) % 2 : pick(rng);
  switch (k) {
    case 0:
    case 1: {
      std::string s = "[";
      const int n = pick(rng) % 3;
      for (int i = 0; i < n; ++i) s += (i ? "," : "") + random_json(rng, depth + 1);
      return s + "]";
    }
    case 2:
    case 3: {
      std::string s = "{";
      const int n = pick(rng) % 3;
      for (int i = 0; i < n; ++i) s += std::string(i ? "," : "") + "\"k[{\\\"" + std::to_string(i) + "\":" + random_json(rng, depth + 1);
      return s + "}";
    }
    case 4:
      return "\"a]}\\\\\"";  // brackets and an escaped backslash inside a string
    default:
      return "12";
  }
}

TEST(JsonIo, DepthScanAgreesWithTheParserOnRandomDocuments) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::string text = random_json(rng, 0);
    const int depth = reference_depth(text);
    for (int limit : {1, 2, 3, 5, 8, 64}) {
      const bool too_deep = json_depth_violation(text, limit) != std::string_view::npos;
      ASSERT_EQ(too_deep, depth > limit) << text << " limit " << limit;
    }
  }
}

TEST(JsonIo, TooDeepIsAnInputErrorNamingTheSource) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  try {
    parse_json(deep, "deep.json");
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.info().file, "deep.json");
    EXPECT_NE(std::string(e.what()).find("nested at most 64"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(parse_json(std::string(64, '[') + std::string(64, ']'), "ok.json"));
  EXPECT_THROW(parse_json(std::string(65, '[') + std::string(65, ']'), "no.json"), InputError);
  EXPECT_THROW(parse_json("{\"a\": 1e400}", "big.json"), InputError);
  EXPECT_THROW(parse_json("{\"a\": ", "torn.json", 3), InputError);
}

TEST(JsonIo, ExcerptsAreBoundedAndSayWhatTheValueIs) {
  EXPECT_EQ(json_excerpt(json("abc")), "string \"abc\"");
  EXPECT_EQ(json_excerpt(json(7)), "number 7");
  EXPECT_EQ(json_excerpt(json(nullptr)), "null null");
  const std::string huge(1 << 20, 'x');
  EXPECT_LT(json_excerpt(json(huge)).size(), 100u);
  json big = json::array();
  for (int i = 0; i < 100000; ++i) big.push_back({{"k", huge.substr(0, 100)}});
  const std::string e = json_excerpt(big);
  EXPECT_LT(e.size(), 200u) << e;
  EXPECT_NE(e.find("(100000 elements)"), std::string::npos) << e;
  json nested = json::array();
  for (int i = 0; i < 50; ++i) nested = json::array({nested});
  EXPECT_LT(json_excerpt(nested).size(), 100u);
  EXPECT_NO_THROW(json_excerpt(json(std::string("\xff\xfe invalid utf-8"))));
}

}  // namespace
}  // namespace lnb::common
