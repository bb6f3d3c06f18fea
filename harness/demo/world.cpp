// Shapes world generator (world.h). Every random choice comes from one
// std::mt19937_64 stream per artefact (its sequence is fixed by the standard) through
// the helpers below, never through std::*_distribution (implementation-defined), so a
// seed gives the same world on every platform.
#include "harness/demo/world.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/json_io.h"
#include "common/file_io.h"
#include "tasks/benchmark_files.h"

namespace lnb::harness::demo {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr int kGeneratorVersion = 3;
constexpr const char* kShortAnswer = "\nAnswer the question using a single word or phrase.";

const std::array<const char*, 8> kKinds = {"circle", "square", "triangle", "diamond", "cross", "ring", "star", "bar"};
const std::array<const char*, 6> kColors = {"red", "green", "blue", "yellow", "purple", "orange"};
const std::array<cv::Scalar, 6> kBgr = {cv::Scalar(40, 40, 215),  cv::Scalar(40, 165, 40),  cv::Scalar(210, 80, 30),
                                        cv::Scalar(30, 215, 230), cv::Scalar(165, 40, 160), cv::Scalar(20, 140, 250)};
const std::array<cv::Scalar, 4> kBackgrounds = {cv::Scalar(236, 236, 236), cv::Scalar(220, 228, 232),
                                                cv::Scalar(232, 224, 218), cv::Scalar(214, 214, 214)};
const std::array<const char*, 4> kNumberWords = {"zero", "one", "two", "three"};
const std::array<const char*, 3> kRows = {"top", "middle", "bottom"};
const std::array<const char*, 3> kCols = {"left", "center", "right"};
constexpr int kKindCount = static_cast<int>(kKinds.size());    // POPE's "objects" are the kinds
constexpr int kColorCount = static_cast<int>(kColors.size());
constexpr int kObjects = kKindCount * kColorCount;             // kind x colour: what a scene draws

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  int below(int n) { return static_cast<int>(g_() % static_cast<uint64_t>(n)); }
  double unit() { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(below(static_cast<int>(v.size())))]; }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(static_cast<int>(i)))]);
  }
  int weighted(const std::vector<double>& w) {
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    double r = unit() * total;
    for (size_t i = 0; i < w.size(); ++i) {
      if (r < w[i]) return static_cast<int>(i);
      r -= w[i];
    }
    return static_cast<int>(w.size()) - 1;
  }

 private:
  std::mt19937_64 g_;
};

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

int col_of(const Shape& s) { return s.cell % 3; }
int row_of(const Shape& s) { return s.cell / 3; }

std::string position_words(const Shape& s) {
  if (s.cell == 4) return "the center";
  if (row_of(s) == 1) return std::string("the ") + kCols[static_cast<size_t>(col_of(s))];
  if (col_of(s) == 1) return std::string("the ") + kRows[static_cast<size_t>(row_of(s))];
  return std::string("the ") + kRows[static_cast<size_t>(row_of(s))] + " " + kCols[static_cast<size_t>(col_of(s))];
}

std::string with_article(const std::string& phrase) { return (phrase[0] == 'a' || phrase[0] == 'o' ? "an " : "a ") + phrase; }

std::string shape_phrase(const Shape& s, bool size_word) {
  return with_article((size_word ? std::string(s.large ? "large " : "small ") : std::string()) + s.name());
}

std::string join_list(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// Object frequencies and co-occurrence: each scene draws from one of three themes, each
// of which favours six objects, over a skewed base popularity.
struct ObjectModel {
  std::vector<double> base;
  std::array<std::vector<int>, 3> theme;
  explicit ObjectModel(uint64_t seed) : base(kObjects) {
    Rng r(seed ^ 0x5eedULL);
    std::vector<int> order(kObjects);
    std::iota(order.begin(), order.end(), 0);
    r.shuffle(order);
    for (int i = 0; i < kObjects; ++i) base[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1.0 / (1.0 + 0.12 * i);
    for (auto& t : theme) {
      std::vector<int> all(kObjects);
      std::iota(all.begin(), all.end(), 0);
      r.shuffle(all);
      t.assign(all.begin(), all.begin() + 6);
    }
  }
  std::vector<double> weights(int theme_index) const {
    std::vector<double> w = base;
    for (int o : theme[static_cast<size_t>(theme_index)]) w[static_cast<size_t>(o)] *= 4.0;
    return w;
  }
};

Scene random_scene(Rng& r, const ObjectModel& om, int n_shapes) {
  Scene sc;
  sc.background = r.below(static_cast<int>(kBackgrounds.size()));
  std::vector<double> w = om.weights(r.below(3));
  std::vector<int> cells(9);
  std::iota(cells.begin(), cells.end(), 0);
  r.shuffle(cells);
  for (int i = 0; i < n_shapes; ++i) {
    const int o = r.weighted(w);
    Shape s;
    s.kind = o / kColorCount;
    s.color = o % kColorCount;
    for (int c = 0; c < kColorCount; ++c) w[static_cast<size_t>(s.kind * kColorCount + c)] = 0;  // each kind at most once
    s.cell = cells[static_cast<size_t>(i)];
    s.large = r.chance(0.5);
    sc.shapes.push_back(s);
  }
  return sc;
}

int random_count(Rng& r) {
  const double u = r.unit();
  return u < 0.3 ? 1 : (u < 0.65 ? 2 : 3);
}

cv::Mat draw_scene(const Scene& sc, int side, Rng& r) {
  cv::Mat img(side, side, CV_8UC3, kBackgrounds[static_cast<size_t>(sc.background)]);
  const double cell = side / 3.0;
  for (const Shape& s : sc.shapes) {
    const double radius = cell * (s.large ? 0.44 : 0.30);
    const double jitter = cell * 0.5 - radius - 1.0;
    const double cx = (col_of(s) + 0.5) * cell + (r.unit() * 2 - 1) * std::max(0.0, jitter);
    const double cy = (row_of(s) + 0.5) * cell + (r.unit() * 2 - 1) * std::max(0.0, jitter);
    const cv::Scalar color = kBgr[static_cast<size_t>(s.color)];
    const auto pt = [&](double x, double y) { return cv::Point(static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))); };
    switch (s.kind) {
      case 0:
        cv::circle(img, pt(cx, cy), static_cast<int>(std::lround(radius)), color, cv::FILLED, cv::LINE_AA);
        break;
      case 1:
        cv::rectangle(img, pt(cx - radius * 0.85, cy - radius * 0.85), pt(cx + radius * 0.85, cy + radius * 0.85), color,
                      cv::FILLED, cv::LINE_AA);
        break;
      case 2: {
        const std::vector<cv::Point> p = {pt(cx, cy - radius), pt(cx - radius, cy + radius * 0.8), pt(cx + radius, cy + radius * 0.8)};
        cv::fillConvexPoly(img, p, color, cv::LINE_AA);
        break;
      }
      case 3: {
        const std::vector<cv::Point> p = {pt(cx, cy - radius), pt(cx + radius, cy), pt(cx, cy + radius), pt(cx - radius, cy)};
        cv::fillConvexPoly(img, p, color, cv::LINE_AA);
        break;
      }
      case 4: {  // cross: two bars a third of the size thick
        const double t = radius * 0.34;
        cv::rectangle(img, pt(cx - radius, cy - t), pt(cx + radius, cy + t), color, cv::FILLED, cv::LINE_AA);
        cv::rectangle(img, pt(cx - t, cy - radius), pt(cx + t, cy + radius), color, cv::FILLED, cv::LINE_AA);
        break;
      }
      case 5:  // ring: an outline a third of the radius thick
        cv::circle(img, pt(cx, cy), static_cast<int>(std::lround(radius * 0.82)), color,
                   std::max(2, static_cast<int>(std::lround(radius * 0.36))), cv::LINE_AA);
        break;
      case 6: {  // five-pointed star
        std::vector<cv::Point> p;
        for (int k = 0; k < 10; ++k) {
          const double a = -M_PI / 2 + k * M_PI / 5, rr = k % 2 ? radius * 0.42 : radius;
          p.push_back(pt(cx + rr * std::cos(a), cy + rr * std::sin(a)));
        }
        cv::fillPoly(img, std::vector<std::vector<cv::Point>>{p}, color, cv::LINE_AA);
        break;
      }
      default:  // bar: wide and flat
        cv::rectangle(img, pt(cx - radius, cy - radius * 0.38), pt(cx + radius, cy + radius * 0.38), color, cv::FILLED, cv::LINE_AA);
    }
  }
  return img;
}

void write_image(const fs::path& path, const cv::Mat& img) {
  fs::create_directories(path.parent_path());
  std::vector<uchar> bytes;
  if (!cv::imencode(".jpg", img, bytes, {cv::IMWRITE_JPEG_QUALITY, 95}))
    throw std::runtime_error(path.string() + ": OpenCV could not encode the image");
  common::write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

void write_json(const fs::path& path, const ordered_json& j, int indent = -1) {
  fs::create_directories(path.parent_path());
  common::write_file_atomic(path, j.dump(indent) + "\n");
}

// Five captions of one scene, in five different styles, as annotators would write them.
std::vector<std::string> captions_of(const Scene& sc, Rng& r) {
  std::vector<Shape> shapes = sc.shapes;
  const auto phrases = [&](bool size_word) {
    r.shuffle(shapes);
    std::vector<std::string> p;
    for (const Shape& s : shapes) p.push_back(shape_phrase(s, size_word));
    return p;
  };
  const size_t n = shapes.size();
  const std::string count = kNumberWords[n];
  std::vector<std::string> styles;
  styles.push_back(capitalize(join_list(phrases(false))) + ".");
  styles.push_back("a picture of " + join_list(phrases(r.chance(0.5))));
  styles.push_back(n == 1 ? "one shape, " + join_list(phrases(false)) + ", on a gray background"
                          : count + " shapes: " + join_list(phrases(false)));
  {
    std::vector<std::string> p;
    r.shuffle(shapes);
    for (const Shape& s : shapes) p.push_back(shape_phrase(s, false) + " in " + position_words(s));
    styles.push_back(capitalize(join_list(p)) + ".");
  }
  styles.push_back("There is " + join_list(phrases(true)) + " in the image.");
  if (n >= 2) {
    const Shape& a = shapes[0];
    const Shape& b = shapes[1];
    if (col_of(a) != col_of(b)) {
      const bool left = col_of(a) < col_of(b);
      styles.push_back(capitalize(shape_phrase(a, false)) + " to the " + (left ? "left" : "right") + " of " +
                       shape_phrase(b, false) + (n == 3 ? " and " + shape_phrase(shapes[2], false) : std::string()));
    }
  }
  r.shuffle(styles);
  styles.resize(5);
  return styles;
}

struct Qa {
  std::string question, answer, type, answer_type;  // type: VQA question_type prefix
};

std::vector<int> absent_objects(const Scene& sc) {
  std::set<int> present;
  for (const Shape& s : sc.shapes) present.insert(object_id(s));
  std::vector<int> out;
  for (int o = 0; o < kKindCount; ++o)
    if (!present.count(o)) out.push_back(o);
  return out;
}

int random_absent(const Scene& sc, Rng& r) { return r.pick(absent_objects(sc)); }

// Questions with one right answer, the kinds VQAv2, MME and POPE ask (training mixes them).
std::vector<Qa> questions_about(const Scene& sc, Rng& r) {
  std::vector<Qa> out;
  const size_t n = sc.shapes.size();
  out.push_back({"How many shapes are there?", std::to_string(n), "how many", "number"});
  {  // a yes/no count check, true half the time
    int asked = static_cast<int>(n);
    if (r.chance(0.5)) asked = (asked + r.below(2)) % 3 + 1;  // one of the two other counts in 1..3
    out.push_back({asked == 1 ? std::string("Is there just one shape?") : std::string("Are there ") + kNumberWords[static_cast<size_t>(asked)] + " shapes?",
                   asked == static_cast<int>(n) ? "yes" : "no", asked == 1 ? "is there" : "are there", "yes/no"});
  }
  const Shape& s = sc.shapes[static_cast<size_t>(r.below(static_cast<int>(n)))];
  // Existence both ways, of object categories (the kinds), as POPE and MME ask it.
  out.push_back({"Is there " + with_article(object_name(s.kind)) + " in the image?", "yes", "is there a", "yes/no"});
  out.push_back({"Is there " + with_article(object_name(random_absent(sc, r))) + " in the image?", "no", "is there a", "yes/no"});
  // A scene holds each kind once, so "the <kind>" always names one shape.
  const std::string kind = object_name(s.kind);
  out.push_back({"What color is the " + kind + "?", kColors[static_cast<size_t>(s.color)], "what color is the", "other"});
  int asked_color = s.color;  // a yes/no colour check, true half the time
  if (r.chance(0.5)) asked_color = (s.color + 1 + r.below(kColorCount - 1)) % kColorCount;
  out.push_back({"Is the " + kind + " " + kColors[static_cast<size_t>(asked_color)] + "?", asked_color == s.color ? "yes" : "no",
                 "is the", "yes/no"});
  if (std::count_if(sc.shapes.begin(), sc.shapes.end(), [&](const Shape& t) { return t.color == s.color; }) == 1)
    out.push_back({std::string("What shape is the ") + kColors[static_cast<size_t>(s.color)] + " object?", kind, "what", "other"});
  if (n >= 2) {
    const Shape& a = sc.shapes[0];
    const Shape& b = sc.shapes[1];
    if (col_of(a) != col_of(b)) {
      const bool ask_left = r.chance(0.5);
      const bool truth = ask_left == (col_of(a) < col_of(b));
      out.push_back({"Is the " + object_name(a.kind) + " on the " + (ask_left ? "left" : "right") + " of the " + object_name(b.kind) + "?",
                     truth ? "yes" : "no", "is the", "yes/no"});
    }
  }
  return out;
}

std::string scene_text(const Scene& sc, Rng& r) { return captions_of(sc, r)[0]; }

ordered_json conversation(const std::string& id, const std::string& image, const std::vector<std::pair<std::string, std::string>>& turns) {
  ordered_json conv = ordered_json::array();
  for (const auto& [q, a] : turns) {
    conv.push_back({{"from", "human"}, {"value", q}});
    conv.push_back({{"from", "gpt"}, {"value", a}});
  }
  ordered_json j = {{"id", id}};
  if (!image.empty()) j["image"] = image;
  j["conversations"] = conv;
  return j;
}

const std::vector<std::string>& caption_prompts() {
  static const std::vector<std::string> k = {"Provide a one-sentence caption for the provided image.", "Describe the image briefly.",
                                             "What do you see in this picture?", "Write a short caption for this image."};
  return k;
}

// A chat answer: short (LLaVA-1.5's VQA data, capitalized yes/no) or a sentence.
std::pair<std::string, std::string> chat_turn(const Qa& qa, const Scene& sc, Rng& r) {
  if (r.chance(0.75)) {
    const std::string a = qa.answer_type == "yes/no" ? capitalize(qa.answer) : qa.answer;
    return {qa.question + kShortAnswer, a};
  }
  std::string a;
  if (qa.answer_type == "yes/no")
    a = capitalize(qa.answer) + (qa.answer == "yes" ? ", it is." : ", it is not.");
  else if (qa.answer_type == "number")
    a = "There " + std::string(qa.answer == "1" ? "is one shape" : std::string("are ") + kNumberWords[sc.shapes.size()] + " shapes") +
        " in the image.";
  else
    a = "It is " + qa.answer + ".";
  return {qa.question, a};
}

std::string general_sentence(Rng& r) {
  static const std::vector<std::string> subj = {"A man", "A woman", "Two dogs", "A child", "A cat", "A group of people", "A bird"};
  static const std::vector<std::string> verb = {"riding a bicycle", "playing with a red ball", "sitting", "walking",
                                                "standing", "eating rice and vegetables", "looking at a blue car"};
  static const std::vector<std::string> place = {"down a city street", "on a grassy field", "next to a row of parked cars",
                                                 "on a wooden table", "in a park", "near the water", "in front of a house"};
  return r.pick(subj) + " " + r.pick(verb) + " " + r.pick(place) + ".";
}

std::string image_name(const std::string& prefix, int64_t id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%012lld.jpg", prefix.c_str(), static_cast<long long>(id));
  return buf;
}

}  // namespace

const std::vector<std::string>& shape_kinds() {
  static const std::vector<std::string> k(kKinds.begin(), kKinds.end());
  return k;
}
const std::vector<std::string>& shape_colors() {
  static const std::vector<std::string> k(kColors.begin(), kColors.end());
  return k;
}

std::string Shape::name() const { return std::string(kColors[static_cast<size_t>(color)]) + " " + kKinds[static_cast<size_t>(kind)]; }
int object_id(const Shape& s) { return s.kind; }
std::string object_name(int id) { return kKinds[static_cast<size_t>(id)]; }

ordered_json WorldSpec::to_json() const {
  return {{"seed", seed},           {"image_side", image_side}, {"train_images", train_images}, {"caption_train", caption_train},
          {"caption_test", caption_test}, {"vqa_images", vqa_images}, {"pope_images", pope_images}, {"mme_images", mme_images},
          {"corpus_scenes", corpus_scenes}};
}

WorldSpec world_preset(const std::string& name) {
  WorldSpec s;
  if (name == "default") return s;
  if (name == "test") {
    s.train_images = 240;
    s.caption_train = 8;
    s.caption_test = 12;
    s.vqa_images = 12;
    s.pope_images = 6;
    s.mme_images = 4;
    s.corpus_scenes = 800;
    return s;
  }
  throw std::invalid_argument("unknown world size '" + name + "' (default | test)");
}

std::vector<int> popular_objects(const std::vector<Scene>& scenes) {
  std::vector<int> count(kKindCount, 0);
  for (const Scene& sc : scenes)
    for (const Shape& s : sc.shapes) ++count[static_cast<size_t>(object_id(s))];
  std::vector<int> order(kKindCount);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return count[static_cast<size_t>(a)] > count[static_cast<size_t>(b)]; });
  return order;
}

std::vector<int> cooccurring_objects(const std::vector<Scene>& scenes, const std::vector<int>& truth) {
  std::vector<int> score(kKindCount, 0);
  for (const Scene& sc : scenes) {
    std::set<int> ids;
    for (const Shape& s : sc.shapes) ids.insert(object_id(s));
    for (int t : truth)
      if (ids.count(t))
        for (int o : ids)
          if (o != t) ++score[static_cast<size_t>(o)];
  }
  std::vector<int> order(kKindCount);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)]; });
  return order;
}

bool stamp_matches(const fs::path& file, const std::string& field, const nlohmann::json& expected) {
  if (!fs::is_regular_file(file)) return false;
  try {
    const nlohmann::json j = common::read_json(file.string());  // bounded: a damaged stamp means "rebuild"
    return j.is_object() && j.contains(field) && j[field] == expected;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {
// What world.json's "key" holds: a world is reused only when it matches.
ordered_json world_key(const WorldSpec& spec) { return {{"generator_version", kGeneratorVersion}, {"spec", spec.to_json()}}; }
}  // namespace

bool world_is_current(const WorldSpec& spec, const fs::path& dir) { return stamp_matches(dir / "world.json", "key", world_key(spec)); }

ordered_json generate_world(const WorldSpec& spec, const fs::path& dir) {
  if (spec.image_side < 24 || spec.train_images < 1 || spec.caption_test < 1 || spec.vqa_images < 1 || spec.pope_images < 1 ||
      spec.mme_images < 1)
    throw std::invalid_argument("shapes world: every size must be positive and images at least 24 px");
  fs::create_directories(dir);
  fs::remove(dir / "world.json");  // incomplete until rewritten last
  const ObjectModel om(spec.seed);
  Rng draw(spec.seed * 7 + 1);  // pixel jitter
  const WorldFiles files;
  ordered_json counts = ordered_json::object();

  // --- training images: stage-1 captions, stage-2 instructions ---------------------
  std::vector<Scene> all_scenes;  // POPE's statistics run over the whole world
  {
    Rng r(spec.seed * 7 + 2);
    ordered_json pretrain = ordered_json::array(), instruct = ordered_json::array();
    for (int i = 0; i < spec.train_images; ++i) {
      const Scene sc = random_scene(r, om, random_count(r));
      all_scenes.push_back(sc);
      char name[64];
      std::snprintf(name, sizeof name, "images/train/shape_%06d.jpg", i);
      write_image(dir / name, draw_scene(sc, spec.image_side, draw));
      const std::vector<std::string> caps = captions_of(sc, r);
      pretrain.push_back(conversation("pretrain-" + std::to_string(i), name,
                                      {{"Give a brief description of the image.\n<image>", caps[0]}}));
      std::vector<std::pair<std::string, std::string>> turns;
      std::vector<Qa> qas = questions_about(sc, r);
      r.shuffle(qas);
      const int n_turns = 2 + r.below(3);
      for (int t = 0; t < n_turns && t < static_cast<int>(qas.size()); ++t) turns.push_back(chat_turn(qas[static_cast<size_t>(t)], sc, r));
      if (r.chance(0.4)) turns.insert(turns.begin() + r.below(static_cast<int>(turns.size()) + 1), {r.pick(caption_prompts()), caps[1]});
      turns[0].first = "<image>\n" + turns[0].first;
      instruct.push_back(conversation("instruct-" + std::to_string(i), name, turns));
    }
    write_json(dir / files.pretrain_json, pretrain);
    write_json(dir / files.instruct_json, instruct);
    counts["train_images"] = spec.train_images;
  }

  // --- language-model corpus: text-only chats about described scenes, captions, prose ---
  {
    Rng r(spec.seed * 7 + 3);
    ordered_json chats = ordered_json::array();
    std::string corpus;
    for (int i = 0; i < spec.corpus_scenes; ++i) {
      const Scene sc = random_scene(r, om, random_count(r));
      const std::string described = "Here is a picture: " + scene_text(sc, r);
      std::vector<Qa> qas = questions_about(sc, r);
      r.shuffle(qas);
      std::vector<std::pair<std::string, std::string>> turns;
      const int n_turns = 3 + r.below(2);
      for (int t = 0; t < n_turns && t < static_cast<int>(qas.size()); ++t) turns.push_back(chat_turn(qas[static_cast<size_t>(t)], sc, r));
      if (r.chance(0.25)) turns.push_back({r.pick(caption_prompts()), captions_of(sc, r)[0]});
      turns[0].first = described + "\n" + turns[0].first;
      chats.push_back(conversation("chat-" + std::to_string(i), "", turns));
      for (const std::string& c : captions_of(sc, r)) corpus += c + "\n";
      if (i % 4 == 0) corpus += general_sentence(r) + "\n";
    }
    write_json(dir / files.chat_json, chats);
    fs::create_directories((dir / files.corpus_txt).parent_path());
    common::write_file_atomic(dir / files.corpus_txt, corpus);
    counts["chat_dialogues"] = spec.corpus_scenes;
  }

  int64_t next_id = 100000;  // image ids unique across the world, COCO-like
  const auto new_id = [&next_id] { return next_id += 7; };

  // --- Karpathy caption files -----------------------------------------------------------
  const auto caption_task = [&](bool coco, uint64_t stream) {
    Rng r(spec.seed * 7 + stream);
    std::vector<tasks::KarpathyImage> images;
    for (int i = 0; i < spec.caption_train + spec.caption_test; ++i) {
      const bool test = i >= spec.caption_train;
      const Scene sc = random_scene(r, om, random_count(r));
      all_scenes.push_back(sc);
      const int64_t id = new_id();
      tasks::KarpathyImage img;
      std::string rel;
      if (coco) {
        img.filepath = test ? "val2014" : "train2014";
        img.filename = image_name("COCO_" + img.filepath + "_", id);
        img.cocoid = id;
        rel = img.filepath + "/" + img.filename;
      } else {
        img.filename = std::to_string(id) + ".jpg";
        rel = "flickr30k-images/" + img.filename;
      }
      write_image(dir / (coco ? files.coco : files.flickr30k) / rel, draw_scene(sc, spec.image_side, draw));
      img.sentences = captions_of(sc, r);
      img.split = test ? "test" : "train";
      images.push_back(std::move(img));
    }
    tasks::write_karpathy_captions(dir / (coco ? files.coco / "dataset_coco.json" : files.flickr30k / "dataset_flickr30k.json"),
                                   coco ? "coco" : "flickr30k", images);
  };
  caption_task(true, 4);
  caption_task(false, 5);
  counts["caption_test_images"] = spec.caption_test;

  // --- VQAv2 val: three questions per image, ten answers each ---------------------------
  {
    Rng r(spec.seed * 7 + 6);
    std::vector<tasks::VqaQuestionText> questions;
    std::vector<tasks::VqaAnnotation> annotations;
    const std::map<std::string, std::vector<std::string>> variants = {
        {"red", {"dark red", "pink"}},        {"green", {"dark green", "lime"}},  {"blue", {"navy", "light blue"}},
        {"yellow", {"gold", "light yellow"}}, {"purple", {"violet", "magenta"}},  {"orange", {"dark orange", "red"}},
        {"circle", {"round", "circles"}},     {"square", {"rectangle", "box"}},   {"triangle", {"triangles", "pyramid"}},
        {"diamond", {"square", "rhombus"}},   {"cross", {"plus", "crosses"}},     {"ring", {"circle", "donut"}},
        {"star", {"stars", "asterisk"}},      {"bar", {"rectangle", "line"}},     {"1", {"one", "2"}},
        {"2", {"two", "3"}},                  {"3", {"three", "4"}},              {"yes", {"yes", "no"}},
        {"no", {"no", "yes"}}};
    for (int i = 0; i < spec.vqa_images; ++i) {
      const Scene sc = random_scene(r, om, random_count(r));
      all_scenes.push_back(sc);
      const int64_t id = new_id();
      write_image(dir / files.vqav2 / "val2014" / image_name("COCO_val2014_", id), draw_scene(sc, spec.image_side, draw));
      std::vector<Qa> qas = questions_about(sc, r);
      r.shuffle(qas);
      for (size_t k = 0; k < 3 && k < qas.size(); ++k) {
        const Qa& qa = qas[k];
        const int64_t qid = id * 1000 + static_cast<int64_t>(k);
        std::string q = qa.question;
        for (char& ch : q) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        questions.push_back({qid, id, capitalize(q)});
        tasks::VqaAnnotation ann;
        ann.question.question_id = qid;
        ann.question.question_type = qa.type;
        ann.question.answer_type = qa.answer_type;
        ann.image_id = id;
        std::map<std::string, int> tally;
        const double p_right = qa.answer_type == "yes/no" ? 0.9 : (qa.answer_type == "number" ? 0.8 : 0.75);
        for (int a = 1; a <= 10; ++a) {
          std::string ans = qa.answer;
          if (!r.chance(p_right)) {
            const auto it = variants.find(qa.answer);
            if (it != variants.end()) ans = r.pick(it->second);
          }
          ++tally[ans];
          ann.question.answers.push_back({ans, r.chance(0.85) ? "yes" : "maybe", a});
        }
        ann.multiple_choice_answer = qa.answer;
        for (const auto& [ans, n] : tally)
          if (n > tally[ann.multiple_choice_answer]) ann.multiple_choice_answer = ans;
        annotations.push_back(std::move(ann));
      }
    }
    tasks::write_vqa_questions(dir / files.vqav2 / "v2_OpenEnded_mscoco_val2014_questions.json", "val2014", questions);
    tasks::write_vqa_annotations(dir / files.vqav2 / "v2_mscoco_val2014_annotations.json", "val2014", annotations);
    counts["vqav2_questions"] = questions.size();
  }

  // --- MME: existence, count, position, color; a Yes and a No question per image ---------
  {
    Rng r(spec.seed * 7 + 7);
    const fs::path base = dir / files.mme / "MME_Benchmark_release_version";
    const std::string suffix = " Please answer yes or no.";
    const std::vector<std::string> subtasks = {"existence", "count", "position", "color"};
    for (const std::string& sub : subtasks) {
      for (int i = 0; i < spec.mme_images;) {
        const Scene sc = random_scene(r, om, sub == "position" ? 2 + r.below(2) : random_count(r));
        std::string yes, no;
        if (sub == "existence") {
          yes = "Is there " + with_article(object_name(r.pick(sc.shapes).kind)) + " in this image?";
          no = "Is there " + with_article(object_name(random_absent(sc, r))) + " in this image?";
        } else if (sub == "count") {
          const int n = static_cast<int>(sc.shapes.size());
          const auto ask = [](int k) {
            return k == 1 ? std::string("Is there only one shape in this image?")
                          : std::string("Are there ") + kNumberWords[static_cast<size_t>(k)] + " shapes in this image?";
          };
          int wrong = 1 + r.below(3);
          if (wrong == n) wrong = n % 3 + 1;
          yes = ask(n);
          no = ask(wrong);
        } else if (sub == "position") {
          const Shape& a = sc.shapes[0];
          const Shape& b = sc.shapes[1];
          if (col_of(a) == col_of(b)) continue;
          const bool left = col_of(a) < col_of(b);
          const std::string stem = "Is the " + object_name(a.kind) + " on the ";
          yes = stem + (left ? "left" : "right") + " of the " + object_name(b.kind) + " in this image?";
          no = stem + (left ? "right" : "left") + " of the " + object_name(b.kind) + " in this image?";
        } else {
          const Shape& s = r.pick(sc.shapes);  // its kind names it: a scene holds each kind once
          int other = r.below(5);
          if (other >= s.color) ++other;
          yes = std::string("Is the ") + kKinds[static_cast<size_t>(s.kind)] + " in this image " + kColors[static_cast<size_t>(s.color)] + "?";
          no = std::string("Is the ") + kKinds[static_cast<size_t>(s.kind)] + " in this image " + kColors[static_cast<size_t>(other)] + "?";
        }
        all_scenes.push_back(sc);
        const int64_t id = new_id();
        const std::string stem = image_name("", id).substr(0, 12);
        write_image(base / sub / (stem + ".jpg"), draw_scene(sc, spec.image_side, draw));
        const bool yes_first = r.chance(0.5);
        std::vector<std::pair<std::string, std::string>> qas = {{yes + suffix, "Yes"}, {no + suffix, "No"}};
        if (!yes_first) std::swap(qas[0], qas[1]);
        tasks::write_mme_questions(base / sub / (stem + ".txt"), qas);
        ++i;
      }
    }
    counts["mme_questions"] = 2 * spec.mme_images * static_cast<int>(subtasks.size());
  }

  // --- POPE: three objects per image; negatives random / popular / adversarial -----------
  {
    Rng r(spec.seed * 7 + 8);
    std::vector<Scene> pope_scenes;
    std::vector<int64_t> ids;
    for (int i = 0; i < spec.pope_images; ++i) {
      const Scene sc = random_scene(r, om, 3);
      pope_scenes.push_back(sc);
      all_scenes.push_back(sc);
      ids.push_back(new_id());
      write_image(dir / files.pope / "val2014" / image_name("COCO_val2014_", ids.back()), draw_scene(sc, spec.image_side, draw));
    }
    const std::vector<int> popular = popular_objects(all_scenes);
    for (const std::string split : {"random", "popular", "adversarial"}) {
      std::vector<tasks::PopeLabel> labels;
      int64_t qid = 0;
      Rng rs(spec.seed * 7 + 9 + (split == "popular" ? 1 : split == "adversarial" ? 2 : 0));
      for (size_t i = 0; i < pope_scenes.size(); ++i) {
        const Scene& sc = pope_scenes[i];
        std::vector<int> truth;
        for (const Shape& s : sc.shapes) truth.push_back(object_id(s));
        std::vector<int> candidates;
        if (split == "random") {
          candidates = absent_objects(sc);
          rs.shuffle(candidates);
        } else {
          candidates = split == "popular" ? popular : cooccurring_objects(all_scenes, truth);
        }
        std::vector<int> negatives;
        for (int o : candidates)
          if (std::find(truth.begin(), truth.end(), o) == truth.end() && negatives.size() < 3) negatives.push_back(o);
        const std::string image = image_name("COCO_val2014_", ids[i]);
        for (size_t k = 0; k < 3; ++k) {
          for (const auto& [obj, label] : {std::pair{truth[k], "yes"}, std::pair{negatives[k], "no"}}) {
            tasks::PopeLabel l;
            l.question_id = ++qid;
            l.image = image;
            l.text = "Is there " + with_article(object_name(obj)) + " in the image?";
            l.label = label;
            labels.push_back(std::move(l));
          }
        }
      }
      tasks::write_pope_labels(dir / files.pope / ("coco_pope_" + split + ".json"), labels);
    }
    counts["pope_questions_per_split"] = 6 * spec.pope_images;
  }

  ordered_json stamp = {{"schema", "lnbench.demo_world/1"},
                        {"key", world_key(spec)},
                        {"counts", counts},
                        {"files",
                         {{"pretrain", files.pretrain_json.string()},
                          {"instruct", files.instruct_json.string()},
                          {"chat", files.chat_json.string()},
                          {"corpus", files.corpus_txt.string()},
                          {"mme", files.mme.string()},
                          {"vqav2", files.vqav2.string()},
                          {"coco", files.coco.string()},
                          {"flickr30k", files.flickr30k.string()},
                          {"pope", files.pope.string()}}}};
  write_json(dir / "world.json", stamp, 2);
  return stamp;
}

}  // namespace lnb::harness::demo
