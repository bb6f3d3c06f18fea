// Shapes world (harness/demo/world.h): deterministic bytes per seed, every benchmark
// readable by its own task adapter with the counts world.json promises, ground truth that
// scores perfectly through the real metrics, VQAv2's ten disagreeing answers, and POPE's
// negative sampling (random / popular / adversarial) as POPE defines it.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "harness/demo/world.h"
#include "tasks/task.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace lnb::harness::demo;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("lnb_demo_world_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

std::map<std::string, std::string> digests(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = lnb::common::sha256_file(e.path()).sha256;
  return out;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

class ShapesWorld : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(temp_dir("a"));
    stamp_ = new json(generate_world(world_preset("test"), *dir_));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete stamp_;
  }
  static fs::path* dir_;
  static json* stamp_;
};
fs::path* ShapesWorld::dir_ = nullptr;
json* ShapesWorld::stamp_ = nullptr;

TEST_F(ShapesWorld, SameSeedSameBytesOtherSeedOtherWorld) {
  const fs::path again = temp_dir("b");
  generate_world(world_preset("test"), again);
  EXPECT_EQ(digests(*dir_), digests(again));
  EXPECT_TRUE(world_is_current(world_preset("test"), again));
  WorldSpec other = world_preset("test");
  other.seed = 99;
  EXPECT_FALSE(world_is_current(other, again));
  const fs::path third = temp_dir("c");
  generate_world(other, third);
  const auto a = digests(*dir_), c = digests(third);
  ASSERT_EQ(a.size(), c.size());
  size_t differing = 0;
  for (const auto& [name, sha] : a) differing += c.at(name) != sha ? 1 : 0;
  EXPECT_GT(differing, a.size() / 2);
  fs::remove_all(again);
  fs::remove_all(third);
}

TEST_F(ShapesWorld, EveryTaskAdapterReadsItsOfficialFiles) {
  const WorldSpec spec = world_preset("test");
  const std::map<std::string, std::pair<std::string, size_t>> expected = {
      {"mme", {"existence,count,position,color", static_cast<size_t>(2 * 4 * spec.mme_images)}},
      {"vqav2", {"", (*stamp_)["counts"]["vqav2_questions"].get<size_t>()}},
      {"coco", {"", static_cast<size_t>(spec.caption_test)}},
      {"flickr30k", {"", static_cast<size_t>(spec.caption_test)}},
      {"pope", {"", static_cast<size_t>(3 * 6 * spec.pope_images)}}};
  EXPECT_GE((*stamp_)["counts"]["vqav2_questions"].get<int>(), 2 * spec.vqa_images);
  for (const auto& [name, want] : expected) {
    auto task = lnb::tasks::make_task(name);
    lnb::tasks::TaskOptions o;
    o.split = want.first;
    task->load(*dir_ / name, o);
    EXPECT_EQ(task->requests().size(), want.second) << name;
    EXPECT_TRUE(task->skipped().empty()) << name;
    for (const auto& r : task->requests()) EXPECT_TRUE(fs::exists(r.image)) << name << " " << r.image;
  }
}

// The benchmarks' own ground truth, answered back, scores as the metrics say it must.
TEST_F(ShapesWorld, GroundTruthScoresPerfectlyAndEveryMmeImageHasAYesAndANo) {
  {  // POPE: the labels answered back
    auto task = lnb::tasks::make_task("pope");
    task->load(*dir_ / "pope", {});
    std::map<std::string, std::string> labels;
    for (const char* split : {"random", "popular", "adversarial"})
      for (const json& j : read_jsonl(*dir_ / "pope" / (std::string("coco_pope_") + split + ".json")))
        labels[std::string(split) + "/" + j["image"].get<std::string>() + "/" + j["text"].get<std::string>()] = j["label"];
    std::vector<lnb::tasks::Answer> answers;
    for (const auto& r : task->requests()) {
      std::string label;
      for (const auto& [key, l] : labels) {
        const std::string prefix = r.split + "/" + r.image.filename().string() + "/";
        if (key.rfind(prefix, 0) == 0 && r.turns.back().user.find(key.substr(prefix.size())) != std::string::npos) label = l;
      }
      ASSERT_FALSE(label.empty()) << r.id;
      answers.push_back({r.id, label == "yes" ? "Yes" : "No"});
    }
    const auto m = task->score(answers).metrics;
    for (const char* split : {"random", "popular", "adversarial"}) {
      EXPECT_DOUBLE_EQ(m["splits"][split]["accuracy"].get<double>(), 1.0) << m.dump();
      EXPECT_DOUBLE_EQ(m["splits"][split]["yes_ratio"].get<double>(), 0.5);
    }
  }
  {  // MME: "Yes" everywhere gets exactly half of each pair right, no image both right
    auto task = lnb::tasks::make_task("mme");
    lnb::tasks::TaskOptions o;
    o.split = "existence,count,position,color";
    task->load(*dir_ / "mme", o);
    std::vector<lnb::tasks::Answer> answers;
    for (const auto& r : task->requests()) answers.push_back({r.id, "Yes"});
    const auto m = task->score(answers).metrics;
    for (const char* sub : {"existence", "count", "position", "color"}) {
      EXPECT_DOUBLE_EQ(m["splits"][sub]["acc"].get<double>(), 0.5) << sub << m.dump();
      EXPECT_DOUBLE_EQ(m["splits"][sub]["acc_plus"].get<double>(), 0.0) << sub;
    }
  }
}

TEST_F(ShapesWorld, VqaHasTenAnswersWithRealisticDisagreement) {
  const json ann = read_json(*dir_ / "vqav2/v2_mscoco_val2014_annotations.json");
  const json qs = read_json(*dir_ / "vqav2/v2_OpenEnded_mscoco_val2014_questions.json");
  ASSERT_EQ(ann["annotations"].size(), qs["questions"].size());
  size_t unanimous = 0;
  std::set<std::string> types;
  for (const json& a : ann["annotations"]) {
    ASSERT_EQ(a["answers"].size(), 10u);
    std::map<std::string, int> tally;
    for (const json& x : a["answers"]) ++tally[x["answer"].get<std::string>()];
    unanimous += tally.size() == 1 ? 1 : 0;
    int best = 0;
    for (const auto& [ans, n] : tally) best = std::max(best, n);
    EXPECT_EQ(tally[a["multiple_choice_answer"].get<std::string>()], best) << a.dump();
    types.insert(a["answer_type"].get<std::string>());
  }
  EXPECT_LT(unanimous, ann["annotations"].size());  // annotators disagree on some questions
  EXPECT_EQ(types, (std::set<std::string>{"yes/no", "number", "other"}));
}

TEST_F(ShapesWorld, KarpathyFilesHoldFiveDistinctCaptionsPerImage) {
  for (const char* f : {"coco/dataset_coco.json", "flickr30k/dataset_flickr30k.json"}) {
    const json d = read_json(*dir_ / f);
    std::set<std::string> splits;
    for (const json& img : d["images"]) {
      splits.insert(img["split"].get<std::string>());
      std::set<std::string> raw;
      for (const json& s : img["sentences"]) raw.insert(s["raw"].get<std::string>());
      EXPECT_EQ(img["sentences"].size(), 5u);
      EXPECT_EQ(raw.size(), 5u) << img.dump();
    }
    EXPECT_EQ(splits, (std::set<std::string>{"train", "test"}));
  }
}

TEST_F(ShapesWorld, PopeAsksThreePresentAndThreeAbsentObjectsPerImage) {
  std::map<std::string, std::set<std::string>> present;  // image -> objects labelled yes
  for (const char* split : {"random", "popular", "adversarial"}) {
    std::map<std::string, std::vector<json>> by_image;
    for (const json& j : read_jsonl(*dir_ / "pope" / (std::string("coco_pope_") + split + ".json")))
      by_image[j["image"].get<std::string>()].push_back(j);
    ASSERT_EQ(by_image.size(), static_cast<size_t>(world_preset("test").pope_images));
    for (const auto& [image, qs] : by_image) {
      ASSERT_EQ(qs.size(), 6u);
      std::set<std::string> yes, no;
      for (size_t i = 0; i < qs.size(); ++i) {
        EXPECT_EQ(qs[i]["label"], i % 2 == 0 ? "yes" : "no");  // POPE's alternation
        (qs[i]["label"] == "yes" ? yes : no).insert(qs[i]["text"].get<std::string>());
      }
      EXPECT_EQ(yes.size(), 3u);
      EXPECT_EQ(no.size(), 3u);
      for (const auto& q : no) EXPECT_FALSE(yes.count(q)) << image << ": " << q;
      if (present.count(image)) {
        EXPECT_EQ(present[image], yes) << "the same truth in every split";
      }
      present[image] = yes;
    }
  }
}

TEST(PopeSampling, PopularRanksBySceneCountAdversarialByCooccurrence) {
  const auto shape = [](int kind, int color, int cell) {
    Shape s;
    s.kind = kind;
    s.color = color;
    s.cell = cell;
    return s;
  };
  // POPE's objects are the kinds: 0 circle, 1 square, 2 triangle, 3 diamond; colour is ignored.
  std::vector<Scene> scenes(4);
  scenes[0].shapes = {shape(0, 0, 0), shape(1, 1, 1)};  // circle with square
  scenes[1].shapes = {shape(0, 4, 0), shape(1, 1, 1)};  // circle with square
  scenes[2].shapes = {shape(0, 0, 0), shape(2, 2, 2)};  // circle with triangle
  scenes[3].shapes = {shape(2, 5, 0), shape(3, 3, 4)};  // triangle with diamond
  const std::vector<int> popular = popular_objects(scenes);
  EXPECT_EQ(popular[0], 0);  // in 3 scenes, whatever its colour
  EXPECT_EQ(popular[1], 1);  // 2 scenes, ties with the triangle broken by index
  EXPECT_EQ(popular[2], 2);
  EXPECT_EQ(popular[3], 3);
  EXPECT_EQ(popular.size(), shape_kinds().size());
  const std::vector<int> adversarial = cooccurring_objects(scenes, {0});
  EXPECT_EQ(adversarial[0], 1);  // co-occurs with the circle twice
  EXPECT_EQ(adversarial[1], 2);  // once
  EXPECT_EQ(object_name(2), "triangle");
  EXPECT_EQ(object_id(shape(2, 2, 5)), 2);
}

TEST(WorldPreset, UnknownNameListsTheChoices) {
  try {
    world_preset("huge");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("default | test"), std::string::npos);
  }
}

}  // namespace
