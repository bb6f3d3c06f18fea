// What checkpoint.cpp (lnbench's own checkpoints) and checkpoint_in.cpp (checkpoints
// trained elsewhere) share. Not part of training/'s interface.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "model/loader.h"

namespace lnb::training::detail {

inline bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
inline bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// A checkpoint's JSON file through the bounded reader; its errors as ModelLoadError.
nlohmann::json read_json_or_load_error(const std::filesystem::path& file);

// "FILE: field 'F': expected E, got G" for a JSON file's bad field.
model::ModelLoadError field_error(const std::filesystem::path& file, const std::string& field, const std::string& expected,
                                  const nlohmann::json& got);

// The decoder layer's LoRA-capable linear by its leaf name (q_proj ... down_proj);
// std::invalid_argument for another name.
model::AdaptableLinearImpl* block_linear(model::LlamaDecoderLayerImpl& layer, const std::string& name);
inline constexpr const char* kBlockLinears[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

template <typename F>
void for_each_layer(model::LlavaModel& m, F&& f) {
  for (size_t i = 0; i < m->llm->layers->size(); ++i) f(*m->llm->layers->ptr<model::LlamaDecoderLayerImpl>(i));
}

// Every parameter's elements (LoRA adapters included): a model's total_params.
int64_t parameter_count(model::LlavaModel& m);

}  // namespace lnb::training::detail
