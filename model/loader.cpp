// See loader.h.
#include "model/loader.h"

#include <map>
#include <sstream>

#include <ATen/ATen.h>
#include <c10/core/DefaultDtype.h>
#include <torch/nn/module.h>

#include "model/layers.h"
#include "model/safetensors.h"
#include "model/tensor_table.h"

namespace lnb::model {

namespace fs = std::filesystem;

namespace {

// Checkpoint prefix -> canonical prefix, longest first within each family (model.md §3.4).
struct Rename {
  const char* from;
  const char* to;
};
constexpr Rename kRenames[] = {
    {"model.vision_tower.vision_tower.vision_model.", "vision_model."},  // original LLaVA, tower inlined
    {"model.vision_tower.vision_model.", "vision_model."},               // transformers >= 4.52
    {"vision_tower.vision_model.", "vision_model."},                     // llava-hf
    {"model.vision_tower.", "vision_model."},                            // transformers 5, in memory
    {"vision_tower.", "vision_model."},                                  // transformers 5 save_pretrained
    {"vision_model.", "vision_model."},                                  // a CLIP folder
    {"embeddings.", "vision_model.embeddings."},                         // a CLIPVisionModel saved by transformers 5
    {"pre_layrnorm.", "vision_model.pre_layrnorm."},
    {"encoder.", "vision_model.encoder."},
    {"post_layernorm.", "vision_model.post_layernorm."},
    {"model.multi_modal_projector.", "projector."},
    {"multi_modal_projector.", "projector."},
    {"model.mm_projector.0.", "projector.linear_1."},
    {"model.mm_projector.2.", "projector.linear_2."},
    {"model.mm_projector.", "projector.linear."},
    {"projector.", "projector."},  // lnbench's own (canonical) files
    {"language_model.model.", "llm."},
    {"model.language_model.", "llm."},
    {"language_model.lm_head.", "lm_head."},
    {"lm_head.", "lm_head."},
    {"llm.", "llm."},
    {"model.", "llm."},  // plain LLaMA and original LLaVA
};
// Tensors a checkpoint may hold that LLaVA never uses.
constexpr const char* kIgnoredPrefixes[] = {"text_model.", "visual_projection.", "text_projection.", "logit_scale"};

std::string shape_str(at::IntArrayRef s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

bool has_safetensors(const fs::path& dir) {
  return fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json");
}

std::unique_ptr<SafetensorsCheckpoint> open_checkpoint(const fs::path& dir) {
  if (!has_safetensors(dir)) {
    std::string hint;
    if (fs::exists(dir / "pytorch_model.bin") || fs::exists(dir / "pytorch_model.bin.index.json"))
      hint = " (found pytorch_model.bin: convert it to safetensors first, e.g. with transformers' save_pretrained)";
    throw ModelLoadError(dir.string() + ": no model.safetensors or model.safetensors.index.json" + hint);
  }
  try {
    return std::make_unique<SafetensorsCheckpoint>(dir);
  } catch (const std::exception& e) {
    throw ModelLoadError(e.what());
  }
}

struct Found {
  const SafetensorsCheckpoint* ckpt;
  std::string key;
  std::string file;
};

// Every named checkpoint tensor mapped to its canonical name; unknown keys collected.
void index_checkpoint(const SafetensorsCheckpoint& ckpt, const std::string& file, std::map<std::string, Found>& found,
                      std::vector<std::string>& unknown) {
  for (const std::string& key : ckpt.names()) {
    const std::optional<std::string> name = canonical_name(key);
    if (!name) {
      unknown.push_back(file + ": " + key);
      continue;
    }
    if (name->empty()) continue;
    const auto [it, fresh] = found.emplace(*name, Found{&ckpt, key, ckpt.file_of(key).string()});
    if (!fresh)
      throw ModelLoadError(file + ": tensor '" + key + "' and '" + it->second.key + "' (" + it->second.file +
                           ") both map to '" + *name + "'");
  }
}

std::string list_some(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > 5) s += " and " + std::to_string(v.size() - 5) + " more";
  return s;
}

fs::path resolve_vision_tower(const fs::path& model_dir, const LlavaConfig& c, const LoadOptions& o) {
  if (!o.vision_tower.empty()) return o.vision_tower;
  if (c.vision_tower.empty())
    throw ModelLoadError((model_dir / "config.json").string() +
                         ": the checkpoint has no vision tower and the config names none (mm_vision_tower); pass --vision-tower DIR");
  for (const fs::path& p : {fs::path(c.vision_tower), model_dir / c.vision_tower})
    if (fs::exists(p / "config.json")) return p;
  throw ModelLoadError((model_dir / "config.json").string() + ": field 'mm_vision_tower': expected a local CLIP folder, got '" +
                       c.vision_tower + "' (nothing is downloaded; pass --vision-tower DIR)");
}

// Every tensor the config implies (tensor_table.h) must be in the checkpoint with its
// shape, before a byte of the model is allocated: a config that disagrees with its
// weights (10^9 layers, a wrong vocab_size) is an error naming the tensor, not an
// allocation that aborts. The headers are mmap'd, so this reads no weights.
void check_against_config(const LlavaConfig& c, const std::map<std::string, Found>& found, const fs::path& dir) {
  std::vector<std::string> missing;
  for (const TensorSpec& t : llava_tensors(c)) {
    const auto it = found.find(t.name);
    if (it == found.end()) {
      missing.push_back(t.name);
      continue;
    }
    const at::Tensor held = it->second.ckpt->tensor(it->second.key);
    if (held.sizes() != at::IntArrayRef(t.shape))
      throw ModelLoadError(it->second.file + ": tensor '" + it->second.key + "' has shape " + shape_str(held.sizes()) +
                           ", expected " + shape_str(t.shape) + " for " + t.name + " from config.json");
  }
  if (!missing.empty())
    throw ModelLoadError(dir.string() + ": checkpoint lacks " + list_some(missing) +
                         " (check config.json: layer counts, tie_word_embeddings, mm_projector_type)");
}

}  // namespace

void check_finite(const at::Tensor& t, const std::string& file, const std::string& name) {
  if (!at::isFloatingType(t.scalar_type()) || at::isfinite(t).all().item<bool>()) return;
  const int64_t n_nan = at::isnan(t).sum().item<int64_t>();
  const int64_t n_bad = t.numel() - at::isfinite(t).sum().item<int64_t>();
  throw ModelLoadError(file + ": tensor '" + name + "' holds " + std::to_string(n_bad) + " non-finite values (" +
                       std::to_string(n_nan) + " NaN) of " + std::to_string(t.numel()) +
                       " (expected finite weights; the file is damaged or the training diverged)");
}

std::optional<std::string> canonical_name(const std::string& key) {
  for (const char* p : kIgnoredPrefixes)
    if (key.rfind(p, 0) == 0) return std::string();
  if (key.size() >= 13 && key.compare(key.size() - 13, 13, ".position_ids") == 0) return std::string();
  for (const Rename& r : kRenames) {
    const std::string_view from(r.from);
    if (key.rfind(from, 0) == 0) return std::string(r.to) + key.substr(from.size());
  }
  return std::nullopt;
}

c10::ScalarType parse_dtype(const std::string& s) {
  if (s == "fp32") return c10::kFloat;
  if (s == "bf16") return c10::kBFloat16;
  if (s == "fp16") return c10::kHalf;
  throw std::invalid_argument("--dtype: expected fp32, bf16 or fp16, got '" + s + "'");
}

LoadedModel load_model(const fs::path& dir, const LoadOptions& o) {
  LoadedModel out;
  out.dir = dir;
  try {
    out.config = load_config(dir);
  } catch (const std::runtime_error& e) {
    throw ModelLoadError(e.what());
  }
  LlavaConfig& c = out.config;
  std::vector<std::unique_ptr<SafetensorsCheckpoint>> ckpts;
  std::map<std::string, Found> found;
  std::vector<std::string> unknown;
  ckpts.push_back(open_checkpoint(dir));
  index_checkpoint(*ckpts.back(), dir.string(), found, unknown);
  bool vision_in_main = false;
  for (const auto& [name, f] : found) vision_in_main = vision_in_main || name.rfind("vision_model.", 0) == 0;
  out.hub_layout = found.count("llm.embed_tokens.weight") && found.at("llm.embed_tokens.weight").key.rfind("model.language_model.", 0) == 0
                       ? "llava-hf (transformers >= 4.52 keys)"
                       : (c.image_merge == LlavaConfig::ImageMerge::kPlaceholder ? "original LLaVA" : "llava-hf / LLaMA");
  fs::path image_dir = dir;  // preprocessor_config.json: the model folder's, else the CLIP folder's
  if (c.has_vision && !vision_in_main && c.image_merge == LlavaConfig::ImageMerge::kPlaceholder) {
    const fs::path tower = resolve_vision_tower(dir, c, o);
    try {
      const int64_t feature_layer = c.vision.feature_layer;
      c.vision = load_clip_config(tower);
      c.vision.feature_layer = feature_layer;
    } catch (const std::runtime_error& e) {
      throw ModelLoadError(e.what());
    }
    ckpts.push_back(open_checkpoint(tower));
    index_checkpoint(*ckpts.back(), tower.string(), found, unknown);
    if (!fs::exists(dir / "preprocessor_config.json")) image_dir = tower;
  }
  if (!unknown.empty())
    throw ModelLoadError("unexpected tensors that no LLaVA module owns: " + list_some(unknown) +
                         " (is the config's model_type right for this checkpoint?)");
  check_against_config(c, found, dir);

  {
    // Built in the target dtype with the block linears uninitialised, then every
    // parameter is filled from the mmap'd checkpoint straight into its device: a 7B
    // model never exists in fp32, and on a GPU not in host memory either.
    const caffe2::TypeMeta default_dtype = c10::get_default_dtype();
    const SkipInitGuard skip_init;
    c10::set_default_dtype(c10::scalarTypeToTypeMeta(o.dtype));
    try {
      out.model = LlavaModel(c);
    } catch (...) {
      c10::set_default_dtype(default_dtype);
      throw;
    }
    c10::set_default_dtype(default_dtype);
  }
  torch::NoGradGuard no_grad;
  std::vector<std::string> missing;
  std::map<std::string, bool> used;
  for (auto& item : out.model->named_parameters()) {
    const auto it = found.find(item.key());
    if (it == found.end()) {
      missing.push_back(item.key());
      continue;
    }
    const at::Tensor t = it->second.ckpt->tensor(it->second.key);
    if (t.sizes() != item.value().sizes())
      throw ModelLoadError(it->second.file + ": tensor '" + it->second.key + "' has shape " + shape_str(t.sizes()) +
                           ", expected " + shape_str(item.value().sizes()) + " for " + item.key() + " from config.json");
    if (!at::isFloatingType(t.scalar_type()))
      throw ModelLoadError(it->second.file + ": tensor '" + it->second.key + "' has an integer dtype, expected floating point");
    if (o.device.is_cpu())
      item.value().copy_(t);  // never alias the read-only mapping
    else
      item.value().set_data(t.to(o.device, o.dtype, /*non_blocking=*/false, /*copy=*/true));
    check_finite(item.value(), it->second.file, it->second.key);  // on the device: one reduction per tensor
    used[item.key()] = true;
  }
  if (!missing.empty()) throw ModelLoadError(dir.string() + ": checkpoint lacks " + list_some(missing));
  std::vector<std::string> leftover;
  for (const auto& [name, f] : found)
    if (!used.count(name)) leftover.push_back(f.file + ": " + f.key + " (as " + name + ")");
  if (!leftover.empty())
    throw ModelLoadError("tensors left over that the config's model does not have: " + list_some(leftover) +
                         " (check config.json: layer counts, tie_word_embeddings, mm_projector_type)");

  if (!o.checkpoint.empty()) apply_checkpoint(out.model, o.checkpoint);
  out.model->to(o.device, o.dtype);
  out.model->eval();

  if (c.has_vision) {
    out.image = load_image_processor(image_dir, static_cast<int>(c.vision.image_size));
    out.image.pad_to_square = c.pad_to_square;
    if (out.image.crop != c.vision.image_size)
      throw ModelLoadError((image_dir / "preprocessor_config.json").string() + ": crop_size " + std::to_string(out.image.crop) +
                           " differs from the vision tower's image_size " + std::to_string(c.vision.image_size));
  }
  out.image_token_id = c.image_merge == LlavaConfig::ImageMerge::kExpanded ? c.image_token_index : kImageSlot;
  if (c.has_vision && c.image_merge == LlavaConfig::ImageMerge::kExpanded &&
      (c.image_token_index < 0 || c.image_token_index >= c.text.vocab_size))
    throw ModelLoadError((dir / "config.json").string() + ": field 'image_token_index': expected an id below vocab_size " +
                         std::to_string(c.text.vocab_size) + ", got " + std::to_string(c.image_token_index));
  if (o.load_tokenizer) {
    try {
      out.tokenizer.emplace(dir / "tokenizer.model");
    } catch (const TokenizerError& e) {
      throw ModelLoadError(e.what());
    }
    if (out.tokenizer->vocab_size() > c.text.vocab_size)
      throw ModelLoadError((dir / "tokenizer.model").string() + ": " + std::to_string(out.tokenizer->vocab_size()) +
                           " pieces but the embeddings have only " + std::to_string(c.text.vocab_size) +
                           " rows (vocab_size in config.json): wrong tokenizer for this model");
  }
  out.pad_id = c.pad_token_id >= 0 && c.pad_token_id < c.text.vocab_size ? c.pad_token_id : 0;
  return out;
}

void write_parameter(at::Tensor* p, const std::string& file, const std::string& key, const at::Tensor& value,
                     const ApplyOptions& options, ApplyCount& count) {
  if (p == nullptr) throw ModelLoadError(file + ": tensor '" + key + "' names no parameter of this model");
  if (value.sizes() != p->sizes())
    throw ModelLoadError(file + ": tensor '" + key + "' has shape " + shape_str(value.sizes()) + ", expected " +
                         shape_str(p->sizes()));
  check_finite(value, file, key);
  torch::NoGradGuard no_grad;
  // Cast and moved once: compared (a full checkpoint) and then written from the same copy.
  const at::Tensor v = value.to(p->device(), p->scalar_type());
  if (options.skip_unchanged && v.equal(*p)) {
    ++count.unchanged_tensors;
    count.unchanged_elements += value.numel();
    return;
  }
  if (options.before_write) options.before_write(*p);
  p->copy_(v);
  ++count.tensors;
  count.elements += value.numel();
}

ApplyCount apply_checkpoint(LlavaModel& model, const fs::path& file_or_dir, const ApplyOptions& options) {
  std::unique_ptr<SafetensorsCheckpoint> ckpt;
  try {
    ckpt = std::make_unique<SafetensorsCheckpoint>(file_or_dir);
  } catch (const std::exception& e) {
    throw ModelLoadError(e.what());
  }
  auto params = model->named_parameters();
  ApplyCount count;
  for (const std::string& key : ckpt->names()) {
    const std::optional<std::string> name = canonical_name(key);
    if (name && name->empty()) continue;
    write_parameter(name ? params.find(*name) : nullptr, file_or_dir.string(), key, ckpt->tensor(key), options, count);
  }
  return count;
}

}  // namespace lnb::model
