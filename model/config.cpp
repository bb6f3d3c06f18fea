// See config.h. Defaults are HF's (LlamaConfig, CLIPVisionConfig, LlavaConfig).
#include "model/config.h"

#include <fstream>
#include <initializer_list>
#include <utility>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace lnb::model {
namespace {

using nlohmann::json;

std::runtime_error bad(const std::string& file, const std::string& field, const std::string& expected, const json& got) {
  return std::runtime_error(file + ": field '" + field + "': expected " + expected + ", got " + got.dump());
}

void read_int(const json& j, const char* key, int64_t& out, const std::string& file, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return;
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0) throw bad(file, where + key, "a positive integer", j[key]);
  out = j[key].get<int64_t>();
}

void read_double(const json& j, const char* key, double& out, const std::string& file, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return;
  if (!j[key].is_number()) throw bad(file, where + key, "a number", j[key]);
  out = j[key].get<double>();
}

// Each HF field once: its JSON key and the member it sets (HF defaults live in config.h).
template <typename C>
struct Fields {
  std::initializer_list<std::pair<const char*, int64_t C::*>> ints;
  std::initializer_list<std::pair<const char*, double C::*>> reals;
};

const Fields<LlamaConfig> kLlamaFields = {
    {{"vocab_size", &LlamaConfig::vocab_size}, {"hidden_size", &LlamaConfig::hidden_size},
     {"intermediate_size", &LlamaConfig::intermediate_size}, {"num_hidden_layers", &LlamaConfig::n_layers},
     {"num_attention_heads", &LlamaConfig::n_heads}, {"num_key_value_heads", &LlamaConfig::n_kv_heads},
     {"max_position_embeddings", &LlamaConfig::max_position_embeddings}, {"head_dim", &LlamaConfig::explicit_head_dim}},
    {{"rms_norm_eps", &LlamaConfig::rms_norm_eps}, {"rope_theta", &LlamaConfig::rope_theta}}};

const Fields<ClipVisionConfig> kClipFields = {
    {{"hidden_size", &ClipVisionConfig::hidden_size}, {"intermediate_size", &ClipVisionConfig::intermediate_size},
     {"num_hidden_layers", &ClipVisionConfig::n_layers}, {"num_attention_heads", &ClipVisionConfig::n_heads},
     {"image_size", &ClipVisionConfig::image_size}, {"patch_size", &ClipVisionConfig::patch_size},
     {"num_channels", &ClipVisionConfig::n_channels}},
    {{"layer_norm_eps", &ClipVisionConfig::layer_norm_eps}}};

template <typename C>
void read_fields(const json& j, const Fields<C>& fields, C& c, const std::string& file, const std::string& where) {
  for (const auto& [key, member] : fields.ints) read_int(j, key, c.*member, file, where);
  for (const auto& [key, member] : fields.reals) read_double(j, key, c.*member, file, where);
}

void read_llama(const json& t, LlamaConfig& c, const std::string& file, const std::string& where) {
  read_fields(t, kLlamaFields, c, file, where);
  if (!t.contains("num_key_value_heads")) c.n_kv_heads = c.n_heads;  // HF: no GQA unless stated
  if (t.contains("tie_word_embeddings") && t["tie_word_embeddings"].is_boolean())
    c.tie_word_embeddings = t["tie_word_embeddings"].get<bool>();
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null())
    throw bad(file, where + "rope_scaling", "null (RoPE scaling is not supported yet)", t["rope_scaling"]);
  if (t.contains("rope_parameters") && !t["rope_parameters"].is_null()) {  // transformers >= 5
    const json& rp = t["rope_parameters"];
    if (!rp.is_object()) throw bad(file, where + "rope_parameters", "an object", rp);
    if (rp.value("rope_type", std::string("default")) != "default")
      throw bad(file, where + "rope_parameters.rope_type", "\"default\" (RoPE scaling is not supported yet)", rp["rope_type"]);
    read_double(rp, "rope_theta", c.rope_theta, file, where + "rope_parameters.");
  }
  if (c.n_heads <= 0 || c.n_kv_heads <= 0 || c.hidden_size % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0)
    throw bad(file, where + "num_attention_heads", "heads dividing hidden_size and a multiple of num_key_value_heads",
              json{c.hidden_size, c.n_heads, c.n_kv_heads});
}

void read_clip(const json& v, ClipVisionConfig& c, const std::string& file, const std::string& where) {
  read_fields(v, kClipFields, c, file, where);
  if (v.contains("hidden_act") && v["hidden_act"] != "quick_gelu")
    throw bad(file, where + "hidden_act", "\"quick_gelu\" (CLIP)", v["hidden_act"]);
}

json parse_object(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::runtime_error(file + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw bad(file, "", "a JSON object", j);
  return j;
}

// config.json of a folder; `what` says which folder was expected when it is missing.
std::string read_config_file(const std::filesystem::path& dir, const char* what) {
  const auto path = dir / "config.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open (expected " + what + " with config.json)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

LlavaConfig parse_config_json(const std::string& text, const std::string& file) {
  const json j = parse_object(text, file);
  LlavaConfig c;
  c.name = file;
  const std::string type = j.value("model_type", std::string());
  if (type == "llama") {
    c.has_vision = false;
    read_llama(j, c.text, file, "");
    return c;
  }
  if (type == "llava" && j.contains("text_config")) {  // HF LlavaForConditionalGeneration
    read_llama(j["text_config"], c.text, file, "text_config.");
    if (j.contains("vision_config")) read_clip(j["vision_config"], c.vision, file, "vision_config.");
    if (j.contains("vision_feature_layer")) c.vision.feature_layer = j["vision_feature_layer"].get<int64_t>();
    if (j.contains("image_token_index")) c.image_token_index = j["image_token_index"].get<int64_t>();
    const std::string act = j.value("projector_hidden_act", std::string("gelu"));
    if (act != "gelu") throw bad(file, "projector_hidden_act", "\"gelu\"", j["projector_hidden_act"]);
    c.projector = ProjectorKind::kMlp2xGelu;
    if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"].get<int64_t>();
    return c;
  }
  if (type == "llava" || type == "llava_llama") {  // original LLaVA: LLaMA fields + mm_*
    read_llama(j, c.text, file, "");
    const std::string proj = j.value("mm_projector_type", std::string("linear"));
    if (proj == "linear") c.projector = ProjectorKind::kLinear;
    else if (proj == "mlp2x_gelu") c.projector = ProjectorKind::kMlp2xGelu;
    else throw bad(file, "mm_projector_type", "\"linear\" or \"mlp2x_gelu\"", j["mm_projector_type"]);
    if (j.contains("mm_hidden_size")) read_int(j, "mm_hidden_size", c.vision.hidden_size, file, "");
    if (j.contains("mm_vision_select_layer")) c.vision.feature_layer = j["mm_vision_select_layer"].get<int64_t>();
    c.vision_tower = j.value("mm_vision_tower", std::string());
    // Until the tower's own config is read (loader.h), its hub name decides the geometry.
    if (c.vision_tower.find("336") == std::string::npos && !c.vision_tower.empty()) c.vision.image_size = 224;
    c.image_merge = LlavaConfig::ImageMerge::kPlaceholder;
    c.pad_to_square = j.value("image_aspect_ratio", std::string()) == "pad";
    if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"].get<int64_t>();
    return c;
  }
  throw bad(file, "model_type", "\"llava\", \"llava_llama\" or \"llama\"", j.value("model_type", json()));
}

ClipVisionConfig parse_clip_config_json(const std::string& text, const std::string& file) {
  const json j = parse_object(text, file);
  ClipVisionConfig c;
  const std::string type = j.value("model_type", std::string());
  if (type == "clip") {
    if (!j.contains("vision_config") || !j["vision_config"].is_object())
      throw bad(file, "vision_config", "an object (CLIPConfig)", j.value("vision_config", json()));
    read_clip(j["vision_config"], c, file, "vision_config.");
  } else if (type == "clip_vision_model") {
    read_clip(j, c, file, "");
  } else {
    throw bad(file, "model_type", "\"clip\" or \"clip_vision_model\"", j.value("model_type", json()));
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
