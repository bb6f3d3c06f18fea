// COCO and Flickr30k captioning. Reads Karpathy's split files (dataset_coco.json,
// dataset_flickr30k.json: images[] with filename, split, sentences[].raw; COCO adds
// filepath and cocoid) or a COCO captions annotation file (images[] + annotations[]).
// The prompt is the caption asset's three text-only example turns, then the image turn
// with its instruction. Scored with pycocoevalcap's pipeline (PTB tokenizer, BLEU-1..4,
// ROUGE-L, CIDEr-D with IDF over the evaluated references) through metrics/; exported
// as a COCO results file plus the references in COCO annotation form, so
// `lnbench score caption` reproduces the numbers from the export alone.
#include <fstream>
#include <unordered_set>

#include "metrics/caption_metrics.h"
#include "metrics/utf8.h"
#include "common/file_io.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"
#include "tasks/json_out.h"
#include "tasks/prompt_asset.h"
#include "tasks/scoring.h"
#include "tasks/task.h"
#include "tasks/text_util.h"

namespace lnb::tasks {
namespace {

using nlohmann::ordered_json;
using namespace json_fields;

constexpr int kDefaultMaxNewTokens = 64;  // lmms-eval's caption tasks

struct CaptionItem {
  std::string image_id;  // cocoid, the Flickr file stem, or the COCO "id"
  std::vector<std::string> refs;
};

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos;
}

class CaptionTask final : public Task {
 public:
  explicit CaptionTask(std::string which) : which_(std::move(which)) {}
  std::string_view name() const override { return which_; }
  std::vector<std::pair<std::string, std::string>> files() const override {
    if (which_ == "coco")
      return {{"annotations", "dataset_coco.json (Karpathy), else annotations/captions_val2014.json (COCO format)"},
              {"images", "the folder holding Karpathy's filepath/filename (default: the data root) or the COCO file_name"}};
    return {{"annotations", "dataset_flickr30k.json (Karpathy)"},
            {"images", "the folder of the Flickr30k jpgs (default: flickr30k-images under the data root)"}};
  }

 protected:
  LoadInfo do_load(const TaskOptions& options) override {
    split_ = options.split.empty() ? "test" : options.split;
    fs::path ann;
    if (which_ == "coco") {
      const char* fallback = fs::exists(root_ / "dataset_coco.json") ? "dataset_coco.json"
                             : fs::exists(root_ / "annotations/captions_val2014.json") ? "annotations/captions_val2014.json"
                                                                                       : "dataset_coco.json";
      ann = file_option(options, "annotations", fallback);
    } else {
      ann = file_option(options, "annotations", "dataset_flickr30k.json");
    }
    asset_ = options.prompt_asset.empty() ? builtin_caption_asset() : load_prompt_asset(options.prompt_asset);
    const int max_new = max_new_tokens(options, kDefaultMaxNewTokens);

    sj::parser parser;
    const sj::element doc = load_simdjson(parser, ann);
    if (sj_has(doc, "annotations")) load_coco_format(doc, ann, options);
    else load_karpathy(doc, ann, options);
    if (requests_.empty() && skipped_.empty())
      throw DataError({ann.string(), 0, "images", "images of split '" + split_ + "'", "none", "splits: train, val, test, restval (COCO), all"});
    for (Request& r : requests_) {
      for (const Turn& t : asset_.examples) r.turns.push_back(t);
      r.turns.push_back({std::string(kImageMarker) + "\n" + asset_.instruction, std::nullopt});
      r.max_new_tokens = max_new;
    }
    LoadInfo info;
    info.data_files.push_back(ann);
    info.metric_version = "caption/1 pycocoevalcap-1.2 (ptb-3.4.1, cider-d evaluated-set idf)";
    info.prompt = {{"asset", asset_.label()}, {"asset_sha256", asset_.sha256}, {"instruction", asset_.instruction},
                   {"n_examples", asset_.examples.size()}, {"max_new_tokens", max_new}};
    return info;
  }

  void keep_only(const std::vector<size_t>& kept) override {
    std::vector<CaptionItem> items;
    for (size_t i : kept) items.push_back(std::move(items_[i]));
    items_ = std::move(items);
  }

  TaskScores do_score(const std::vector<const std::string*>& answers) const override {
    std::vector<std::string> ids, cands;
    std::vector<std::vector<std::string>> refs;
    for (size_t i = 0; i < items_.size(); ++i) {
      ids.push_back(items_[i].image_id);
      refs.push_back(items_[i].refs);
      cands.push_back(caption_text(*answers[i]));  // as the exported results file holds it
    }
    const CaptionScored scored = score_captions(ids, refs, cands);
    const metrics::CaptionScores& s = scored.scores;
    const std::vector<std::string>& tok_cands = scored.tokenized_candidates;
    TaskScores out;
    for (size_t i = 0; i < items_.size(); ++i)
      out.samples.push_back({requests_[i].id, tok_cands[i], s.per_image[i].cider, std::nullopt,
                             {{"bleu_4", s.per_image[i].bleu[3]}, {"rouge_l", s.per_image[i].rouge_l}},
                             ordered_json(items_[i].refs)});
    ordered_json m = metrics_skeleton();
    m["values"] = {{"cider", s.cider}, {"cider_x100", 100 * s.cider}, {"bleu_1", s.bleu[0]}, {"bleu_2", s.bleu[1]},
                   {"bleu_3", s.bleu[2]}, {"bleu_4", s.bleu[3]}, {"rouge_l", s.rouge_l}};
    m["definitions"] = {
        {"cider", "CIDEr-D as pycocoevalcap 1.2, x1 scale (cider_x100 = papers' scale); IDF over the references of "
                  "the evaluated images (" + s.idf_mode + "), so a subset changes IDF too"},
        {"bleu", "BLEU-1..4 as pycocoevalcap (closest reference length, corpus level)"},
        {"rouge_l", "ROUGE-L (beta 1.2) as pycocoevalcap"},
        {"tokenizer", "PTB tokenizer as CoreNLP 3.4.1 with pycocoevalcap's flags and punctuation removal"},
        {"answer", "the generated caption .strip()ped"},
        {"split", split_description()},
        {"prompt_asset_text", asset_examples_text()}};
    std::vector<double> per_image;
    for (const auto& im : s.per_image) per_image.push_back(im.cider);
    m["intervals"] = intervals_skeleton("bootstrap over images of the mean per-image CIDEr-D; IDF and the reference "
                                        "length are those of the full evaluated set, not recomputed per resample");
    m["intervals"]["values"]["cider"] = interval_json(metrics::bootstrap_mean(per_image, headline_bootstrap(which_ + "/cider")));
    m["unparseable_rate"] = 0.0;
    out.metrics = std::move(m);
    return out;
  }

  std::vector<fs::path> do_export(const std::vector<const std::string*>& answers, const fs::path& dir) const override {
    ordered_json results = ordered_json::array(), images = ordered_json::array(), anns = ordered_json::array();
    int64_t ann_id = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const ordered_json id = all_digits(items_[i].image_id) ? ordered_json(std::stoll(items_[i].image_id))
                                                             : ordered_json(items_[i].image_id);
      results.push_back({{"image_id", id}, {"caption", caption_text(*answers[i])}});
      images.push_back({{"id", id}});
      for (const std::string& r : items_[i].refs) anns.push_back({{"image_id", id}, {"id", ++ann_id}, {"caption", r}});
    }
    const std::string stem = which_ + "_" + split_;
    const fs::path res = dir / (stem + "_results.json"), ref = dir / (stem + "_annotations.json");
    common::write_file_atomic(res, py_json_dumps(results));
    common::write_file_atomic(ref, py_json_dumps({{"images", images}, {"annotations", anns}}));
    return {res, ref};
  }

 private:
  std::string split_description() const {
    if (which_ == "flickr30k" && split_ == "all") return "all 31,783 Flickr30k images (not comparable with the 1K test split)";
    if (split_ == "test") return which_ == "flickr30k" ? "Karpathy test (1,000 images)" : "Karpathy test (5,000 images)";
    return split_;
  }

  std::string asset_examples_text() const {
    std::string s;
    for (const Turn& t : asset_.examples) s += "USER: " + t.user + " | ASSISTANT: " + t.assistant.value_or("") + "\n";
    return s + "USER: <image>\\n" + asset_.instruction;
  }

  void add(std::string image_id, const fs::path& image, std::vector<std::string> refs, const fs::path& ann,
           const std::string& where, const TaskOptions& options) {
    if (refs.empty()) {
      bad_sample(options, {ann.string(), 0, where + ": image " + image_id + " has no reference caption"});
      return;
    }
    if (!fs::is_regular_file(image)) {
      bad_sample(options, {ann.string(), 0, where + ": image file " + image.string() + " not found"});
      return;
    }
    if (!ids_.insert(image_id).second)
      throw DataError({ann.string(), 0, where, "unique image ids", "a repeat of " + image_id, ""});
    Request r;
    r.id = image_id;
    r.split = split_;
    r.group = image_id;
    r.image = image;
    requests_.push_back(std::move(r));
    items_.push_back({std::move(image_id), std::move(refs)});
  }

  void load_karpathy(const sj::element& doc, const fs::path& ann, const TaskOptions& options) {
    const bool coco = which_ == "coco";
    const fs::path images = options.files.count("images") ? file_option(options, "images", "")
                            : coco                        ? root_
                                                          : root_ / "flickr30k-images";
    size_t i = 0;
    for (const sj::element im : sj_array(sj_field(doc, "images", ann, ""), ann, "images")) {
      const std::string w = "images[" + std::to_string(i++) + "].";
      const std::string split = sj_string(im, "split", ann, w);
      if (split_ != "all" && split != split_) continue;
      const std::string filename = sj_string(im, "filename", ann, w);
      std::string rel = filename;
      if (sj_has(im, "filepath")) rel = sj_string(im, "filepath", ann, w) + "/" + filename;
      const fs::path image = inside_root(images, rel, ann.string(), 0, w + "filename");
      std::string id = coco && sj_has(im, "cocoid") ? sj_id(im, "cocoid", ann, w) : fs::path(filename).stem().string();
      std::vector<std::string> refs;
      size_t k = 0;
      for (const sj::element s : sj_array(sj_field(im, "sentences", ann, w), ann, w + "sentences"))
        refs.push_back(sj_string(s, "raw", ann, w + "sentences[" + std::to_string(k++) + "]."));
      add(std::move(id), image, std::move(refs), ann, w.substr(0, w.size() - 1), options);
    }
  }

  // COCO captions format: the whole file is the split; images under files.images, or
  // the folder named after the file (captions_val2014.json -> val2014), or the root.
  void load_coco_format(const sj::element& doc, const fs::path& ann, const TaskOptions& options) {
    if (options.split.empty()) split_ = ann.stem().string();  // the whole file is the split
    fs::path images = root_;
    if (options.files.count("images")) {
      images = file_option(options, "images", "");
    } else {
      std::string stem = ann.stem().string();
      if (stem.rfind("captions_", 0) == 0 && fs::is_directory(root_ / stem.substr(9))) images = root_ / stem.substr(9);
    }
    std::unordered_map<std::string, std::vector<std::string>> refs;
    size_t i = 0;
    for (const sj::element a : sj_array(sj_field(doc, "annotations", ann, ""), ann, "annotations")) {
      const std::string w = "annotations[" + std::to_string(i++) + "].";
      refs[sj_id(a, "image_id", ann, w)].push_back(sj_string(a, "caption", ann, w));
    }
    i = 0;
    for (const sj::element im : sj_array(sj_field(doc, "images", ann, ""), ann, "images")) {
      const std::string w = "images[" + std::to_string(i++) + "].";
      std::string id = sj_id(im, "id", ann, w);
      const fs::path image = inside_root(images, sj_string(im, "file_name", ann, w), ann.string(), 0, w + "file_name");
      std::vector<std::string> r = std::move(refs[id]);
      add(std::move(id), image, std::move(r), ann, w.substr(0, w.size() - 1), options);
    }
  }

  std::string which_, split_;
  PromptAsset asset_;
  std::vector<CaptionItem> items_;  // parallel to requests_
  std::unordered_set<std::string> ids_;
};

}  // namespace

std::unique_ptr<Task> make_caption_task(std::string_view which) { return std::make_unique<CaptionTask>(std::string(which)); }

}  // namespace lnb::tasks
