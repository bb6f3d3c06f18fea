// See config.h. Defaults are HF's (LlamaConfig, CLIPVisionConfig, LlavaConfig).
// Every field is checked for type and range before anything is sized from it: a
// config with 10^9 layers or a 10^12-token vocabulary is an error naming the field,
// not an allocation that aborts (the loader then checks every size against the
// tensors the checkpoint holds, still before building the model).
#include "model/config.h"

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <utility>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/json_io.h"

namespace lnb::model {
namespace {

using nlohmann::json;

std::runtime_error bad(const std::string& file, const std::string& field, const std::string& expected, const json& got) {
  return std::runtime_error(file + ": field '" + field + "': expected " + expected + ", got " + common::json_excerpt(got));
}

// A field that, when present and not null, must have the given JSON type.
const json* typed(const json& j, const char* key, json::value_t type, const char* expected, const std::string& file,
                  const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  const bool ok = type == json::value_t::number_integer ? it->is_number_integer() : it->type() == type;
  if (!ok) throw bad(file, where + key, expected, *it);
  return &*it;
}

std::string read_string(const json& j, const char* key, const std::string& fallback, const std::string& file,
                        const std::string& where) {
  const json* v = typed(j, key, json::value_t::string, "a string", file, where);
  return v ? v->get<std::string>() : fallback;
}

// A string field whose value must be one of `allowed` (what lnbench implements).
void check_choice(const json& j, const char* key, std::initializer_list<const char*> allowed, const std::string& file,
                  const std::string& where, const char* why) {
  const json* v = typed(j, key, json::value_t::string, "a string", file, where);
  if (!v) return;
  std::string list;
  for (const char* a : allowed) {
    if (*v == a) return;
    list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  }
  throw bad(file, where + key, list + " (" + why + ")", *v);
}

const json& object_field(const json& j, const char* key, const std::string& file, const std::string& where) {
  const json& v = j.at(key);
  if (!v.is_object()) throw bad(file, where + key, "an object", v);
  return v;
}

// Upper bounds far above any released model, so a typo is an error, not an allocation.
constexpr int64_t kMaxDim = int64_t{1} << 17;       // hidden, intermediate (LLaMA-405B: 53 248)
constexpr int64_t kMaxVocab = int64_t{1} << 22;     // 4 M pieces (largest released: 256 k)
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxPositions = int64_t{1} << 24;
constexpr int64_t kMaxImage = 8192;

void read_int(const json& j, const char* key, int64_t& out, const std::string& file, const std::string& where,
              int64_t max = kMaxDim) {
  if (!j.contains(key) || j[key].is_null()) return;
  const json& v = j[key];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max)) ||
      v.get<int64_t>() <= 0 || v.get<int64_t>() > max)
    throw bad(file, where + key, "an integer from 1 to " + std::to_string(max), v);
  out = v.get<int64_t>();
}

void read_double(const json& j, const char* key, double& out, const std::string& file, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return;
  if (!j[key].is_number() || !std::isfinite(j[key].get<double>()) || j[key].get<double>() <= 0)
    throw bad(file, where + key, "a positive finite number", j[key]);
  out = j[key].get<double>();
}

// Each HF field once: its JSON key and the member it sets (HF defaults live in config.h).
template <typename C>
struct IntField {
  const char* key;
  int64_t C::*member;
  int64_t max = kMaxDim;
};
template <typename C>
struct Fields {
  std::initializer_list<IntField<C>> ints;
  std::initializer_list<std::pair<const char*, double C::*>> reals;
};

const Fields<LlamaConfig> kLlamaFields = {
    {{"vocab_size", &LlamaConfig::vocab_size, kMaxVocab}, {"hidden_size", &LlamaConfig::hidden_size},
     {"intermediate_size", &LlamaConfig::intermediate_size}, {"num_hidden_layers", &LlamaConfig::n_layers, kMaxLayers},
     {"num_attention_heads", &LlamaConfig::n_heads, kMaxHeads}, {"num_key_value_heads", &LlamaConfig::n_kv_heads, kMaxHeads},
     {"max_position_embeddings", &LlamaConfig::max_position_embeddings, kMaxPositions},
     {"head_dim", &LlamaConfig::explicit_head_dim, kMaxHeads}},
    {{"rms_norm_eps", &LlamaConfig::rms_norm_eps}, {"rope_theta", &LlamaConfig::rope_theta}}};

const Fields<ClipVisionConfig> kClipFields = {
    {{"hidden_size", &ClipVisionConfig::hidden_size}, {"intermediate_size", &ClipVisionConfig::intermediate_size},
     {"num_hidden_layers", &ClipVisionConfig::n_layers, kMaxLayers}, {"num_attention_heads", &ClipVisionConfig::n_heads, kMaxHeads},
     {"image_size", &ClipVisionConfig::image_size, kMaxImage}, {"patch_size", &ClipVisionConfig::patch_size, kMaxImage},
     {"num_channels", &ClipVisionConfig::n_channels, 16}},
    {{"layer_norm_eps", &ClipVisionConfig::layer_norm_eps}}};

template <typename C>
void read_fields(const json& j, const Fields<C>& fields, C& c, const std::string& file, const std::string& where) {
  for (const auto& f : fields.ints) read_int(j, f.key, c.*(f.member), file, where, f.max);
  for (const auto& [key, member] : fields.reals) read_double(j, key, c.*member, file, where);
}

void read_llama(const json& t, LlamaConfig& c, const std::string& file, const std::string& where) {
  read_fields(t, kLlamaFields, c, file, where);
  if (!t.contains("num_key_value_heads")) c.n_kv_heads = c.n_heads;  // HF: no GQA unless stated
  if (const json* tie = typed(t, "tie_word_embeddings", json::value_t::boolean, "true or false", file, where))
    c.tie_word_embeddings = tie->get<bool>();
  check_choice(t, "hidden_act", {"silu"}, file, where, "LLaMA's MLP");
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null())
    throw bad(file, where + "rope_scaling", "null (RoPE scaling is not supported yet)", t["rope_scaling"]);
  if (t.contains("rope_parameters") && !t["rope_parameters"].is_null()) {  // transformers >= 5
    const json& rp = t["rope_parameters"];
    if (!rp.is_object()) throw bad(file, where + "rope_parameters", "an object", rp);
    check_choice(rp, "rope_type", {"default"}, file, where + "rope_parameters.", "RoPE scaling is not supported yet");
    read_double(rp, "rope_theta", c.rope_theta, file, where + "rope_parameters.");
  }
  if (c.n_heads <= 0 || c.n_kv_heads <= 0 || c.hidden_size % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0)
    throw bad(file, where + "num_attention_heads", "heads dividing hidden_size and a multiple of num_key_value_heads",
              json{c.hidden_size, c.n_heads, c.n_kv_heads});
}

void read_clip(const json& v, ClipVisionConfig& c, const std::string& file, const std::string& where) {
  read_fields(v, kClipFields, c, file, where);
  check_choice(v, "hidden_act", {"quick_gelu"}, file, where, "CLIP");
  if (c.image_size % c.patch_size != 0)
    throw bad(file, where + "image_size", "a multiple of patch_size " + std::to_string(c.patch_size), json(c.image_size));
  if (c.n_heads <= 0 || c.hidden_size % c.n_heads != 0)
    throw bad(file, where + "num_attention_heads", "a divisor of hidden_size " + std::to_string(c.hidden_size), json(c.n_heads));
}

// vision_feature_layer / mm_vision_select_layer: an index into the tower's hidden states.
void read_feature_layer(const json& j, const char* key, int64_t& out, const std::string& file) {
  const json* v = typed(j, key, json::value_t::number_integer, "an integer (a hidden-state index, e.g. -2)", file, "");
  if (!v) return;
  const int64_t n = v->get<int64_t>();
  if (n < -kMaxLayers || n > kMaxLayers) throw bad(file, key, "a hidden-state index from -1024 to 1024", *v);
  out = n;
}

void read_pad_token(const json& j, LlavaConfig& c, const std::string& file) {
  const json* v = typed(j, "pad_token_id", json::value_t::number_integer, "an integer or null", file, "");
  if (v && v->get<int64_t>() >= 0) c.pad_token_id = v->get<int64_t>();
}

json parse_object(const std::string& text, const std::string& file) {
  json j = common::parse_json(text, file);  // bounded depth; InputError names the file
  if (!j.is_object()) throw std::runtime_error(file + ": expected a JSON object, got " + common::json_excerpt(j));
  return j;
}

// config.json of a folder; `what` says which folder was expected when it is missing.
std::string read_config_file(const std::filesystem::path& dir, const char* what) {
  const auto path = dir / "config.json";
  if (!std::filesystem::is_regular_file(path))
    throw std::runtime_error(path.string() + ": cannot open (expected " + what + " with config.json)");
  return common::read_file(path);
}

}  // namespace

LlavaConfig parse_config_json(const std::string& text, const std::string& file) {
  const json j = parse_object(text, file);
  LlavaConfig c;
  c.name = file;
  const std::string type = read_string(j, "model_type", "", file, "");
  if (type == "llama") {
    c.has_vision = false;
    read_llama(j, c.text, file, "");
    return c;
  }
  if (type == "llava" && j.contains("text_config")) {  // HF LlavaForConditionalGeneration
    read_llama(object_field(j, "text_config", file, ""), c.text, file, "text_config.");
    if (j.contains("vision_config")) read_clip(object_field(j, "vision_config", file, ""), c.vision, file, "vision_config.");
    read_feature_layer(j, "vision_feature_layer", c.vision.feature_layer, file);
    if (const json* v = typed(j, "image_token_index", json::value_t::number_integer, "an integer token id", file, ""))
      c.image_token_index = v->get<int64_t>();
    check_choice(j, "projector_hidden_act", {"gelu"}, file, "", "LLaVA's mlp2x_gelu projector");
    check_choice(j, "vision_feature_select_strategy", {"default"}, file, "", "the CLS token dropped, as LLaVA-1.5");
    typed(j, "tie_word_embeddings", json::value_t::boolean, "true or false", file, "");  // text_config's decides
    c.projector = ProjectorKind::kMlp2xGelu;
    read_pad_token(j, c, file);
    return c;
  }
  if (type == "llava" || type == "llava_llama") {  // original LLaVA: LLaMA fields + mm_*
    read_llama(j, c.text, file, "");
    check_choice(j, "mm_projector_type", {"linear", "mlp2x_gelu"}, file, "", "the projectors lnbench builds");
    const std::string proj = read_string(j, "mm_projector_type", "linear", file, "");
    c.projector = proj == "linear" ? ProjectorKind::kLinear : ProjectorKind::kMlp2xGelu;
    if (j.contains("mm_hidden_size")) read_int(j, "mm_hidden_size", c.vision.hidden_size, file, "");
    read_feature_layer(j, "mm_vision_select_layer", c.vision.feature_layer, file);
    check_choice(j, "mm_vision_select_feature", {"patch"}, file, "", "the CLS token dropped, as LLaVA-1.5");
    check_choice(j, "image_aspect_ratio", {"pad", "square"}, file, "", "LLaVA-1.5's; anyres is LLaVA-NeXT's");
    if (const json* v = typed(j, "mm_use_im_start_end", json::value_t::boolean, "true or false", file, ""); v && v->get<bool>())
      throw bad(file, "mm_use_im_start_end", "false (<im_start>/<im_end> image markers are not supported yet)", *v);
    c.vision_tower = read_string(j, "mm_vision_tower", "", file, "");
    // Until the tower's own config is read (loader.h), its hub name decides the geometry.
    if (c.vision_tower.find("336") == std::string::npos && !c.vision_tower.empty()) c.vision.image_size = 224;
    c.image_merge = LlavaConfig::ImageMerge::kPlaceholder;
    c.pad_to_square = read_string(j, "image_aspect_ratio", "", file, "") == "pad";
    read_pad_token(j, c, file);
    return c;
  }
  throw bad(file, "model_type", "\"llava\", \"llava_llama\" or \"llama\"", j.contains("model_type") ? j["model_type"] : json());
}

ClipVisionConfig parse_clip_config_json(const std::string& text, const std::string& file) {
  const json j = parse_object(text, file);
  ClipVisionConfig c;
  const std::string type = read_string(j, "model_type", "", file, "");
  if (type == "clip") {
    if (!j.contains("vision_config") || !j["vision_config"].is_object())
      throw bad(file, "vision_config", "an object (CLIPConfig)", j.contains("vision_config") ? j["vision_config"] : json());
    read_clip(j["vision_config"], c, file, "vision_config.");
  } else if (type == "clip_vision_model") {
    read_clip(j, c, file, "");
  } else {
    throw bad(file, "model_type", "\"clip\" or \"clip_vision_model\"", j.contains("model_type") ? j["model_type"] : json());
  }
  return c;
}

LlavaConfig load_config(const std::filesystem::path& model_dir) {
  return parse_config_json(read_config_file(model_dir, "a model folder"), (model_dir / "config.json").string());
}

ClipVisionConfig load_clip_config(const std::filesystem::path& clip_dir) {
  return parse_clip_config_json(read_config_file(clip_dir, "a CLIP folder"), (clip_dir / "config.json").string());
}

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> k = {"paper-llama2-7b", "paper-llama2-13b", "llava-1.5-7b", "llava-1.5-13b"};
  return k;
}

LlavaConfig preset(const std::string& name) {
  LlavaConfig c;
  c.name = name;
  c.text.rms_norm_eps = 1e-5;  // LLaMA-2 / Vicuna-1.5 config.json
  const bool b13 = name.find("13b") != std::string::npos;
  if (b13) {
    c.text.hidden_size = 5120;
    c.text.intermediate_size = 13824;
    c.text.n_layers = 40;
    c.text.n_heads = c.text.n_kv_heads = 40;
  }
  if (name.rfind("paper-", 0) == 0) {  // LLaMA-2 + CLIP ViT-L/14 224 px + linear connector
    c.vision.image_size = 224;
    c.projector = ProjectorKind::kLinear;
    c.text.vocab_size = 32000;
  } else if (name.rfind("llava-1.5-", 0) == 0) {  // llava-hf: 336 px, mlp2x_gelu, vocab 32064
    c.vision.image_size = 336;
    c.projector = ProjectorKind::kMlp2xGelu;
    c.text.vocab_size = 32064;
  }
  for (const std::string& n : preset_names())
    if (n == name) return c;
  std::string all;
  for (const std::string& n : preset_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown preset '" + name + "' (expected one of: " + all + ")");
}

}  // namespace lnb::model
