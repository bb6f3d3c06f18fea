// `lnbench generate` end to end on the HF oracle's tiny models (tests/model/hf_oracle.py):
// the dumped logits explain every generated token (greedy), the JSON and the dump agree,
// and bad input is a clear error with exit code 2.
#include <cstdio>
#include <filesystem>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/safetensors.h"
#include "tests/harness/run_lnbench.h"
#include "tests/model/oracle_fixture.h"

namespace fs = std::filesystem;

namespace {

using lnb::test::Result;
Result run(const std::string& args) { return lnb::test::run_lnbench(args); }

fs::path fixtures() {
  std::string error;
  const fs::path d = lnb::test::hf_fixtures(&error);
  EXPECT_TRUE(error.empty()) << error;
  return d;
}

TEST(GenerateCli, JsonAndLogitDumpAgreeAndAreGreedy) {
  const fs::path out = lnb::test::make_temp_dir("lnb-gen") / "logits.safetensors";
  for (const char* model : {"hf224", "v1_linear"}) {
    const Result r = run("generate --model " + (fixtures() / model).string() + " --image " +
                         (fixtures() / "images" / "tall.png").string() +
                         " --prompt 'What shape is in the picture?' --max-new-tokens 6 --json --dump-logits " + out.string());
    ASSERT_EQ(r.code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    const auto tokens = j["tokens"].get<std::vector<int64_t>>();
    EXPECT_TRUE(tokens.size() == 6 || j["stop_reason"] == "eos") << r.out;
    EXPECT_NE(j["prompt"].get<std::string>().find("USER: <image>\nWhat shape is in the picture? ASSISTANT:"), std::string::npos);
    lnb::model::SafetensorsFile f(out);
    const at::Tensor dumped = f.tensor("tokens");
    ASSERT_EQ(dumped.numel(), static_cast<int64_t>(tokens.size()));
    const at::Tensor chosen = f.tensor("step_logits").argmax(-1);  // (n_steps)
    for (size_t i = 0; i < tokens.size(); ++i) {
      EXPECT_EQ(dumped[static_cast<int64_t>(i)].item<int64_t>(), tokens[i]);
      EXPECT_EQ(chosen[static_cast<int64_t>(i)].item<int64_t>(), tokens[i]) << model << " step " << i;
    }
    // The prompt logits cover every position after image expansion.
    EXPECT_EQ(f.tensor("prompt_logits").size(0), j["prompt_tokens"].get<int64_t>());
  }
}

TEST(GenerateCli, BadInputIsAClearErrorWithExitCode2) {
  const fs::path m = fixtures() / "hf224";
  const fs::path bogus = lnb::test::make_temp_dir("lnb-gen-bad") / "not_an_image.jpg";
  std::fclose(std::fopen(bogus.c_str(), "w"));
  Result r = run("generate --model " + m.string() + " --image " + bogus.string() + " --prompt hi");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("not_an_image.jpg"), std::string::npos) << r.out;
  r = run("generate --model " + m.string() + " --prompt hi --template vicuna_v9");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("llava_llama_2"), std::string::npos) << r.out;
  r = run("generate --model " + (fixtures() / "images").string() + " --prompt hi");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("config.json"), std::string::npos) << r.out;
}

}  // namespace
