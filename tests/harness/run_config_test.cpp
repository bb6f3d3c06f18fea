// The run config: one option table gives defaults, --set, CLI flags and messages that
// name the key, what was expected and what was found.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/run_config.h"

namespace lnb::harness {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({"models": {"tiny": {"path": "models/tiny"}}, "tasks": {"pope": {"data": "data/pope"}}})");
}

std::string error_of(const json& cfg, const std::vector<std::string>& sets = {}) {
  try {
    resolve_run_config(cfg, sets, "cfg.json", "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RunConfig, DefaultsFillEveryDeclaredOptionAndPathsResolveAgainstTheConfigFolder) {
  const auto c = resolve_run_config(minimal(), {}, "cfg.json", "/base");
  EXPECT_EQ(c["models"]["tiny"]["path"], "/base/models/tiny");
  EXPECT_EQ(c["models"]["tiny"]["template"], "vicuna_v1");
  EXPECT_EQ(c["tasks"]["pope"]["data"], "/base/data/pope");
  EXPECT_EQ(c["tasks"]["pope"]["limit"], 0);
  EXPECT_EQ(c["results"], "/base/results");
  EXPECT_EQ(c["strategies"].dump(), R"(["base"])");
  EXPECT_EQ(c["eval"]["batch_size"], 8);
  EXPECT_DOUBLE_EQ(c["train"]["lr"].get<double>(), 2e-5);
  // Every non-wildcard option of the table is present in the echo.
  for (const OptionSpec& s : run_options()) {
    if (s.key.find('*') != std::string::npos) continue;
    const json::json_pointer p("/" + [&] {
      std::string k = s.key;
      for (char& ch : k)
        if (ch == '.') ch = '/';
      return k;
    }());
    EXPECT_TRUE(json(c).contains(p)) << s.key;
  }
}

TEST(RunConfig, SetOverridesParseEachKindAndAddEntries) {
  const auto c = resolve_run_config(minimal(),
                                    {"eval.batch_size=16", "strategies=ln,lora", "train.gradient_checkpointing=true",
                                     "train.lr=1e-4", "tasks.mme.data=/d/mme", "tasks.mme.limit=10", "run_id=nightly"},
                                    "cfg.json", "/base");
  EXPECT_EQ(c["eval"]["batch_size"], 16);
  EXPECT_EQ(c["strategies"].dump(), R"(["ln","lora"])");
  EXPECT_EQ(c["train"]["gradient_checkpointing"], true);
  EXPECT_DOUBLE_EQ(c["train"]["lr"].get<double>(), 1e-4);
  EXPECT_EQ(c["tasks"]["mme"]["data"], "/d/mme");
  EXPECT_EQ(c["tasks"]["mme"]["limit"], 10);
  EXPECT_EQ(c["tasks"]["pope"]["data"], "/base/data/pope");
  EXPECT_EQ(c["run_id"], "nightly");
}

TEST(RunConfig, ErrorsNameTheKeyTheExpectationAndTheValueFound) {
  json c = minimal();
  c["eval"] = {{"batch_size", "eight"}};
  std::string e = error_of(c);
  EXPECT_NE(e.find("cfg.json"), std::string::npos) << e;
  EXPECT_NE(e.find("'eval.batch_size'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected an integer"), std::string::npos) << e;
  EXPECT_NE(e.find("\"eight\""), std::string::npos) << e;

  c = minimal();
  c["eval"] = {{"batch_size", 0}};
  e = error_of(c);
  EXPECT_NE(e.find("'eval.batch_size': expected a value >= 1, found 0"), std::string::npos) << e;

  c = minimal();
  c["eval"] = {{"batch_sise", 4}};
  e = error_of(c);
  EXPECT_NE(e.find("unknown key 'eval.batch_sise'"), std::string::npos) << e;

  c = minimal();
  c["dtype"] = "fp8";
  e = error_of(c);
  EXPECT_NE(e.find("'dtype': expected one of fp32 | bf16 | fp16, found \"fp8\""), std::string::npos) << e;

  c = minimal();
  c["tasks"]["gqa"] = {{"data", "x"}};
  e = error_of(c);
  EXPECT_NE(e.find("'tasks.gqa'"), std::string::npos) << e;
  EXPECT_NE(e.find("pope"), std::string::npos) << e;

  e = error_of(minimal(), {"tasks.mme.limit=3"});
  EXPECT_NE(e.find("'tasks.mme.data'"), std::string::npos) << e;
  EXPECT_NE(e.find("required"), std::string::npos) << e;

  e = error_of(minimal(), {"eval.batch_size"});
  EXPECT_NE(e.find("expected key=value"), std::string::npos) << e;
  e = error_of(minimal(), {"train.gradient_checkpointing=maybe"});
  EXPECT_NE(e.find("'train.gradient_checkpointing': expected true or false, found 'maybe'"), std::string::npos) << e;
  e = error_of(minimal(), {"seed=4x"});
  EXPECT_NE(e.find("'seed': expected an integer, found '4x'"), std::string::npos) << e;

  e = error_of(json::parse(R"({"tasks": {"pope": {"data": "d"}}})"));
  EXPECT_NE(e.find("'models'"), std::string::npos) << e;
  e = error_of(json::array());
  EXPECT_NE(e.find("expected a JSON object"), std::string::npos) << e;
}

// An external checkpoint is an entry of its own section, a strategy by its name.
TEST(RunConfig, CheckpointEntriesResolveAndTheirNamesNeverShadowAStrategy) {
  json cfg = minimal();
  cfg["strategies"] = {"base", "ln"};
  cfg["checkpoints"] = {{"their-lora", {{"path", "ckpt/lora"}}}, {"their-full", {{"path", "/abs/full"}, {"model", "tiny"}}}};
  const auto c = resolve_run_config(cfg, {}, "cfg.json", "/base");
  EXPECT_EQ(c["checkpoints"]["their-lora"]["path"], "/base/ckpt/lora");
  EXPECT_EQ(c["checkpoints"]["their-lora"]["model"], "");
  EXPECT_EQ(c["checkpoints"]["their-full"]["model"], "tiny");
  const auto s = resolve_run_config(minimal(), {"checkpoints.x.path=/p"}, "cfg.json", "/base");
  EXPECT_EQ(s["checkpoints"]["x"]["path"], "/p");

  std::string e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                                           "strategies": ["ln"], "checkpoints": {"ln": {"path": "c"}}})"));
  EXPECT_NE(e.find("'checkpoints.ln'"), std::string::npos) << e;
  EXPECT_NE(e.find("listed in strategies"), std::string::npos) << e;
  e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                               "checkpoints": {"base": {"path": "c"}}})"));
  EXPECT_NE(e.find("'checkpoints.base'"), std::string::npos) << e;
  e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                               "checkpoints": {"c": {"path": "c", "model": "huge"}}})"));
  EXPECT_NE(e.find("'checkpoints.c.model'"), std::string::npos) << e;
  EXPECT_NE(e.find("'huge'"), std::string::npos) << e;
  e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                               "checkpoints": {"c": {"model": "tiny"}}})"));
  EXPECT_NE(e.find("'checkpoints.c.path'"), std::string::npos) << e;
  e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                               "checkpoints": {"c": {}}})"));
  EXPECT_NE(e.find("'checkpoints.c.path'"), std::string::npos) << e;
  e = error_of(json::parse(R"({"models": {"tiny": {"path": "m"}}, "tasks": {"pope": {"data": "d"}},
                               "checkpoints": {"c": {"path": "c", "rank": 4}}})"));
  EXPECT_NE(e.find("checkpoints.c.rank"), std::string::npos) << e;
}

TEST(RunConfig, PerStrategyLearningRatesParseAndBadItemsAreNamed) {
  EXPECT_EQ(parse_strategy_lr("ln-simple=1e-2,full=3e-4"), (std::map<std::string, double>{{"ln-simple", 1e-2}, {"full", 3e-4}}));
  EXPECT_TRUE(parse_strategy_lr("").empty());
  json c = minimal();
  c["train"] = {{"strategy_lr", "ln=2e-3,full=fast"}};
  std::string e = error_of(c);
  EXPECT_NE(e.find("'train.strategy_lr'"), std::string::npos) << e;
  EXPECT_NE(e.find("'full=fast'"), std::string::npos) << e;
  c["train"] = {{"strategy_lr", "ln=-1"}};
  EXPECT_NE(error_of(c).find("'ln=-1'"), std::string::npos);
  c["train"] = {{"strategy_lr", "2e-3"}};
  EXPECT_NE(error_of(c).find("no STRATEGY="), std::string::npos);
  EXPECT_EQ(error_of(c, {"train.strategy_lr=ln=2e-3"}), "");
}

TEST(RunConfig, FlagNamesComeFromTheKeys) {
  EXPECT_EQ(flag_name("eval.batch_size"), "--eval-batch-size");
  EXPECT_EQ(flag_name("run_id"), "--run-id");
}

}  // namespace
}  // namespace lnb::harness

namespace lnb::harness {
namespace {

TEST(RunConfig, TheExampleNightlyConfigsResolve) {
  for (const char* name : {"nightly-cpu.json", "nightly-gpu-llava15-7b.json"}) {
    SCOPED_TRACE(name);
    const auto c = load_run_config(std::filesystem::path(LNB_SOURCE_DIR) / "configs" / name, {});
    EXPECT_FALSE(c["models"].empty());
    EXPECT_EQ(c["tasks"].size(), 5u);
    EXPECT_GE(c["strategies"].size(), 4u);
  }
  const auto gpu = load_run_config(std::filesystem::path(LNB_SOURCE_DIR) / "configs" / "nightly-gpu-llava15-7b.json", {});
  EXPECT_EQ(gpu["dtype"], "bf16");
  EXPECT_EQ(gpu["train"]["gradient_checkpointing"], true);
}

}  // namespace
}  // namespace lnb::harness

namespace lnb::harness {
namespace {

TEST(RunConfig, DocsCarryTheGeneratedOptionTable) {
  std::ifstream in(std::filesystem::path(LNB_SOURCE_DIR) / "docs" / "run_config.md");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find(options_markdown()), std::string::npos)
      << "docs/run_config.md is stale: paste the output of `lnbench run --list-options`";
}

}  // namespace
}  // namespace lnb::harness

namespace lnb::harness {
namespace {

// `lnbench eval` takes its settings from the run config's declarations: every eval.* key,
// every per-task key but the data root, every per-model key but the path, device and
// dtype, each once, with the declaration's default in its help.
TEST(RunConfig, EvalFlagsCoverTheRunConfigsEvalTaskAndModelOptions) {
  std::set<std::string> keys, flags;
  for (const EvalFlag& f : eval_command_options()) {
    EXPECT_TRUE(flags.insert(f.flag).second) << "flag twice: " << f.flag;
    keys.insert(f.spec->key);
    EXPECT_NE(option_help(*f.spec).find("(default "), std::string::npos) << f.spec->key;
  }
  for (const OptionSpec& s : run_options()) {
    const bool wanted = (s.key.rfind("eval.", 0) == 0) || (s.key.rfind("tasks.*.", 0) == 0 && s.key != "tasks.*.data") ||
                        (s.key.rfind("models.*.", 0) == 0 && s.key != "models.*.path") || s.key == "device" ||
                        s.key == "dtype";
    EXPECT_EQ(keys.count(s.key), wanted ? 1u : 0u) << s.key;
  }
  for (const char* f : {"--batch-size", "--max-new-tokens", "--limit", "--split", "--template", "--vision-tower",
                        "--feature-cache", "--prefix-sharing", "--prefix-cache-mb", "--vision-batch", "--cuda-graphs",
                        "--batch-check", "--device", "--dtype"})
    EXPECT_EQ(flags.count(f), 1u) << f;
}

TEST(RunConfig, EngineOptionsAreValidated) {
  nlohmann::json c = minimal();
  c["eval"] = {{"cuda_graphs", "sometimes"}};
  EXPECT_NE(error_of(c).find("'eval.cuda_graphs': expected one of auto | on | off"), std::string::npos) << error_of(c);
  c["eval"] = {{"prefix_cache_mb", 0}};
  EXPECT_NE(error_of(c).find("'eval.prefix_cache_mb': expected a value >= 1"), std::string::npos) << error_of(c);
  c["eval"] = {{"prefix_sharing", "yes"}};
  EXPECT_NE(error_of(c).find("'eval.prefix_sharing': expected true or false"), std::string::npos) << error_of(c);
  EXPECT_EQ(error_of(minimal(), {"eval.prefix_sharing=off", "eval.vision_batch=2"}), "");
}

}  // namespace
}  // namespace lnb::harness

namespace lnb::harness {
namespace {

TEST(RunConfig, SeedsMakeOneCellPerSeedAndBadSeedsAreNamed) {
  json c = minimal();
  c["strategies"] = {"base", "ln", "lora"};
  c["train"] = {{"seeds", {"42", "7"}}};
  const auto resolved = resolve_run_config(c, {}, "cfg.json", "/base");
  std::vector<std::string> names;
  for (const MatrixCell& m : matrix_cells(resolved)) names.push_back(m.name + "/" + m.strategy + "/" + std::to_string(m.seed));
  EXPECT_EQ(names, (std::vector<std::string>{"base/base/42", "ln/ln/42", "ln~seed7/ln/7", "lora/lora/42", "lora~seed7/lora/7"}));
  // No seeds: the top-level seed, one cell per strategy.
  json one = minimal();
  one["strategies"] = {"ln"};
  one["seed"] = 5;
  const auto cells = matrix_cells(resolve_run_config(one, {}, "cfg.json", "/base"));
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].name, "ln");
  EXPECT_EQ(cells[0].seed, 5u);
  c["train"] = {{"seeds", {"42", "x1"}}};
  std::string e = error_of(c);
  EXPECT_NE(e.find("'train.seeds'"), std::string::npos) << e;
  EXPECT_NE(e.find("'x1'"), std::string::npos) << e;
  c["train"] = {{"seeds", {"3", "03"}}};
  EXPECT_NE(error_of(c).find("twice"), std::string::npos);
  EXPECT_EQ(error_of(c, {"train.seeds=1,2"}), "");
}

}  // namespace
}  // namespace lnb::harness
