// Shapes world: the deterministic synthetic world `lnbench demo` runs the paper's whole
// pipeline on. Scenes of coloured shapes drawn with OpenCV, written in every task's
// official format (MME existence/count/position/color, VQAv2 questions + annotations
// with ten disagreeing answers, Karpathy COCO and Flickr30k caption files, POPE random /
// popular / adversarial label files with POPE's negative sampling), LLaVA pretrain
// captions and instruction JSON, and the text corpus the base model's tokenizer and
// language model are trained on. Torch-free; the same seed and sizes give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lnb::harness::demo {

struct WorldSpec {
  uint64_t seed = 1234;
  int image_side = 72;         // 3×3 cells of 24 px: each cell is one patch of the demo ViT
  int train_images = 2400;     // stage-1 captions and stage-2 instructions share them
  int caption_train = 40;      // Karpathy train entries (demo pools) per captioning task
  int caption_test = 100;      // Karpathy test images per captioning task
  int vqa_images = 100;        // 3 questions each
  int pope_images = 30;        // 6 questions each per split (3 present, 3 absent)
  int mme_images = 20;         // per subtask, 2 questions each
  int corpus_scenes = 12000;   // text-only scenes in the language-model corpus
  nlohmann::ordered_json to_json() const;
};

// "default" (the demo) or "test" (the reduced demo of the test suite).
WorldSpec world_preset(const std::string& name);

// The vocabulary of the world, exposed for tests.
const std::vector<std::string>& shape_kinds();   // circle, square, triangle, diamond, cross, ring, star, bar
const std::vector<std::string>& shape_colors();  // red, green, blue, yellow, purple, orange

struct Shape {
  int kind = 0, color = 0, cell = 0;  // cell of the 3x3 grid, row-major
  bool large = false;
  std::string name() const;           // "red circle"
};
struct Scene {
  std::vector<Shape> shapes;
  int background = 0;  // tint index
};

// What was written and where (paths relative to the world folder).
struct WorldFiles {
  std::filesystem::path pretrain_json = "train/llava_pretrain.json";
  std::filesystem::path instruct_json = "train/llava_instruct.json";
  std::filesystem::path chat_json = "train/text_chat.json";   // text-only dialogues (LM corpus)
  std::filesystem::path corpus_txt = "train/corpus.txt";      // captions and prose (LM + tokenizer)
  std::filesystem::path train_images = ".";                   // image paths in the JSONs are relative to this
  std::filesystem::path mme = "mme", vqav2 = "vqav2", coco = "coco", flickr30k = "flickr30k", pope = "pope";
};

// Writes the world under `dir` (created; existing files overwritten) and world.json last.
// Returns world.json's content: the spec, the generator version and per-file counts.
nlohmann::ordered_json generate_world(const WorldSpec& spec, const std::filesystem::path& dir);

// True when the JSON stamp `file` exists, parses and has `field` equal to `expected`: the
// demo's caches (world, base model, stage 1) write their stamp last, so a killed step
// leaves none and is redone.
bool stamp_matches(const std::filesystem::path& file, const std::string& field, const nlohmann::json& expected);

// True when `dir` holds a complete world of this spec and generator version.
bool world_is_current(const WorldSpec& spec, const std::filesystem::path& dir);

// POPE's negative sampling over a set of scenes, exposed for tests. POPE's "objects" are
// categories, here the shape kinds (a scene holds each kind at most once): ranked by the
// number of scenes holding them (popular) and by co-occurrence with the given ground truth
// (adversarial), ties broken by kind index.
std::vector<int> popular_objects(const std::vector<Scene>& scenes);
std::vector<int> cooccurring_objects(const std::vector<Scene>& scenes, const std::vector<int>& truth);
int object_id(const Shape& s);    // the kind
std::string object_name(int id);  // "circle"

}  // namespace lnb::harness::demo
