// Chat templates and the tokenizer against goldens from LLaVA's logic over the reference
// Python stack (tests/model/gen_template_goldens.py -> tests/data/model/).
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/chat_template.h"
#include "model/tokenizer.h"

using namespace lnb::model;

namespace {

const std::string kData = LNB_TEST_DATA_DIR "/model/";

nlohmann::json goldens() {
  std::ifstream in(kData + "template_goldens.json");
  return nlohmann::json::parse(in);
}

TEST(ChatTemplate, RendersAndTokenizesAsLlava) {
  const Tokenizer tok(kData + "tokenizer.model");
  int n = 0;
  const nlohmann::json all = goldens();
  for (const auto& g : all["cases"]) {
    std::vector<ChatTurn> turns;
    for (const auto& t : g["turns"])
      turns.push_back({t["user"].get<std::string>(),
                       t["assistant"].is_null() ? std::nullopt : std::optional<std::string>(t["assistant"].get<std::string>())});
    const std::string prompt = render_chat(chat_template(g["template"]), turns);
    const std::string where = g["template"].get<std::string>() + "/" + g["case"].get<std::string>();
    EXPECT_EQ(prompt, g["prompt"].get<std::string>()) << where;
    EXPECT_EQ(tok.encode_with_image(prompt), g["ids"].get<std::vector<int64_t>>()) << where;
    ++n;
  }
  EXPECT_EQ(n, 16);  // 4 templates x 4 cases
  // vicuna_v0 as the authors' prompts: the system line, its built-in exchange first, and
  // the open turn "###Assistant:" with no trailing space.
  const std::string v0 = render_chat(chat_template("vicuna_v0"), {{"<image>\nWhat is it?", std::nullopt}});
  EXPECT_EQ(v0.rfind("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
                     "detailed, and polite answers to the human's questions.###Human: What are the key differences between "
                     "renewable and non-renewable energy sources?###Assistant: Renewable energy sources", 0), 0u);
  EXPECT_NE(v0.find("economic and social instability.\n###Human: <image>\nWhat is it?###Assistant:"), std::string::npos);
  EXPECT_EQ(v0.back(), ':');
  EXPECT_TRUE(chat_template("vicuna_v0").eval_only);
}

TEST(Tokenizer, ImageSlotBosAndSpecials) {
  const Tokenizer tok(kData + "tokenizer.model");
  const auto ids = tok.encode_with_image("<image>\nhi</s>");
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], tok.bos_id());
  EXPECT_EQ(ids[1], kImageSlot);
  EXPECT_EQ(ids.back(), tok.eos_id());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.bos_id()), 1);  // later chunks lose their BOS
  // Two images, nothing between them: LLaVA still inserts both slots.
  const auto two = tok.encode_with_image("<image><image>x");
  EXPECT_EQ(std::count(two.begin(), two.end(), kImageSlot), 2);
}

TEST(Tokenizer, DecodeSkipsSpecialsAndRoundTrips) {
  const Tokenizer tok(kData + "tokenizer.model");
  const std::string text = "What shape is in the picture? 42 café ★";
  std::vector<int64_t> ids = tok.encode(text, /*add_bos=*/true);
  ids.push_back(tok.eos_id());
  ids.push_back(kImageSlot);
  ids.push_back(tok.vocab_size() + 1);  // an added id such as <pad>
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(Tokenizer, BadModelFilesAreNamed) {
  try {
    Tokenizer t(kData + "template_goldens.json");
    FAIL() << "loaded JSON as a tokenizer";
  } catch (const TokenizerError& e) {
    EXPECT_NE(std::string(e.what()).find("template_goldens.json"), std::string::npos);
  }
  EXPECT_THROW(Tokenizer(kData + "absent.model"), TokenizerError);
}

TEST(ChatTemplate, UnknownNameListsTheKnownOnes) {
  try {
    chat_template("vicuna_v2");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("llava_llama_2"), std::string::npos);
  }
}

}  // namespace
