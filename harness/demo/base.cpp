// The demo's base model (base.h): tokenizer, contrastive vision tower, language
// model, saved as an HF llava-hf folder that model/loader.h reads like any other.
#include "harness/demo/base.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include "common/file_io.h"
#include "common/sha256.h"
#include "harness/demo/world.h"
#include "model/chat_template.h"
#include "model/image_preprocess.h"
#include "model/llava.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "training/data.h"
#include "training/optimizer.h"
#include "training/trainer.h"

namespace lnb::harness::demo {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr int kBuilderVersion = 3;  // 3: training/'s AdamW groups and cosine schedule (with a floor)

std::vector<model::ChatTurn> chat_turns(const training::Conversation& c) {
  std::vector<model::ChatTurn> turns;
  for (size_t i = 0; i + 1 < c.messages.size(); i += 2) turns.push_back({c.messages[i].value, c.messages[i + 1].value});
  return turns;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open (the shapes world's corpus)");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// LLaMA's tokenizer settings (BPE, byte fallback, split digits, identity normalization).
std::string train_tokenizer(const std::vector<std::string>& sentences, int64_t pieces) {
  return model::train_sentencepiece(
      sentences, "--model_type=bpe --vocab_size=" + std::to_string(pieces) +
                     " --byte_fallback=true --character_coverage=1.0 --split_digits=true"
                     " --normalization_rule_name=identity --add_dummy_prefix=true --remove_extra_whitespaces=false"
                     " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --hard_vocab_limit=false --minloglevel=2"
                     " --num_threads=2 --input_sentence_size=0 --max_sentence_length=8192");
}

// HF's _init_weights for LLaMA/LLaVA: N(0, 0.02) matrices, zero biases, unit norms.
void hf_init(torch::nn::Module& m, uint64_t seed) {
  at::manual_seed(seed);
  torch::NoGradGuard ng;
  for (auto& p : m.named_parameters()) {
    const std::string& n = p.key();
    if (n.find("norm") != std::string::npos && n.size() > 6 && n.compare(n.size() - 6, 6, "weight") == 0) p.value().fill_(1.0);
    else if (n.size() > 4 && n.compare(n.size() - 4, 4, "bias") == 0) p.value().zero_();
    else p.value().normal_(0.0, 0.02);
  }
}

// Both phases train with training/'s AdamW (HF adamw_torch; no decay on biases and norms)
// and HF's cosine schedule with 5 % warmup, decaying to a floor of 10 % of the rate
// (get_cosine_with_min_lr_schedule_with_warmup, min_lr_rate 0.1: pretraining from scratch
// keeps learning to the end), with global-norm clipping at 1.
constexpr double kMinLrRatio = 0.1;
training::OptimOptions phase_optim(double lr, double weight_decay) {
  training::OptimOptions o;
  o.lr = lr;
  o.weight_decay = weight_decay;
  o.warmup_ratio = 0.05;
  o.max_grad_norm = 1.0;
  return o;
}

std::vector<at::Tensor> tensors_of(const std::vector<std::pair<std::string, at::Tensor>>& named) {
  std::vector<at::Tensor> out;
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

// One optimizer step of a phase at `step` of `total`; returns the loss.
double optimizer_step(torch::optim::AdamW& opt, const training::OptimOptions& o, const std::vector<at::Tensor>& params,
                      const at::Tensor& loss, int64_t step, int64_t total) {
  training::set_lr(opt, o.lr * training::lr_multiplier(step, total, o.warmup_ratio, kMinLrRatio));
  opt.zero_grad();
  loss.backward();
  torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
  opt.step();
  return loss.item<double>();
}

// The text tower of the contrastive phase: mean of unigram and hashed-bigram embeddings
// (bigrams bind "red" to "circle"), projected. Discarded after training.
struct TextTowerImpl : torch::nn::Module {
  TextTowerImpl(int64_t vocab, int64_t buckets, int64_t width, int64_t out)
      : vocab(vocab), buckets(buckets),
        table(register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab + buckets + 1, width).padding_idx(vocab + buckets)))),
        proj(register_module("proj", torch::nn::Linear(torch::nn::LinearOptions(width, out).bias(false)))) {}
  std::vector<int64_t> features(const std::vector<int64_t>& ids) const {
    std::vector<int64_t> f(ids.begin(), ids.end());
    for (size_t i = 1; i < ids.size(); ++i) f.push_back(vocab + (ids[i - 1] * 1000003 + ids[i]) % buckets);
    return f;
  }
  at::Tensor forward(const at::Tensor& feats /* (B, L) padded with pad() */) {
    const at::Tensor valid = feats.ne(pad()).to(at::kFloat).unsqueeze(-1);
    const at::Tensor mean = (table->forward(feats) * valid).sum(1) / valid.sum(1).clamp_min(1.0);
    return proj->forward(mean);
  }
  int64_t pad() const { return vocab + buckets; }
  int64_t vocab, buckets;
  torch::nn::Embedding table;
  torch::nn::Linear proj;
};
TORCH_MODULE(TextTower);

std::string hf_key(const std::string& canonical) {
  const auto starts = [&](const char* p) { return canonical.rfind(p, 0) == 0; };
  if (starts("vision_model.")) return "vision_tower." + canonical;
  if (starts("projector.")) return "multi_modal_projector." + canonical.substr(10);
  if (starts("llm.")) return "language_model.model." + canonical.substr(4);
  if (canonical == "lm_head.weight") return "language_model.lm_head.weight";
  throw std::logic_error("demo base model: no HF name for " + canonical);
}

ordered_json hf_config(const model::LlavaConfig& c, int64_t pieces) {
  const model::LlamaConfig& t = c.text;
  const model::ClipVisionConfig& v = c.vision;
  return {{"architectures", {"LlavaForConditionalGeneration"}},
          {"model_type", "llava"},
          {"ignore_index", -100},
          {"image_token_index", pieces},
          {"pad_token_id", pieces + 1},
          {"projector_hidden_act", "gelu"},
          {"vision_feature_layer", -2},
          {"vision_feature_select_strategy", "default"},
          {"image_seq_length", v.n_patches()},
          {"tie_word_embeddings", false},
          {"text_config",
           {{"model_type", "llama"}, {"vocab_size", t.vocab_size}, {"hidden_size", t.hidden_size},
            {"intermediate_size", t.intermediate_size}, {"num_hidden_layers", t.n_layers}, {"num_attention_heads", t.n_heads},
            {"num_key_value_heads", t.n_kv_heads}, {"max_position_embeddings", t.max_position_embeddings},
            {"rms_norm_eps", t.rms_norm_eps}, {"rope_theta", t.rope_theta}, {"bos_token_id", 1}, {"eos_token_id", 2},
            {"pad_token_id", pieces + 1}, {"hidden_act", "silu"}, {"tie_word_embeddings", false}}},
          {"vision_config",
           {{"model_type", "clip_vision_model"}, {"hidden_size", v.hidden_size}, {"intermediate_size", v.intermediate_size},
            {"num_hidden_layers", v.n_layers}, {"num_attention_heads", v.n_heads}, {"image_size", v.image_size},
            {"patch_size", v.patch_size}, {"num_channels", 3}, {"hidden_act", "quick_gelu"}, {"layer_norm_eps", v.layer_norm_eps},
            {"projection_dim", v.hidden_size}}},
          {"dtype", "float32"}};
}

ordered_json stamp_key(const BaseSpec& spec, const fs::path& world_dir) {
  return {{"builder_version", kBuilderVersion},
          {"spec", spec.to_json()},
          {"world", common::sha256_hex(common::read_file(world_dir / "world.json"))}};
}

at::Tensor unit_rows(const at::Tensor& x) { return x / x.norm(2, {-1}, true).clamp_min(1e-6); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ordered_json BaseSpec::to_json() const {
  return {{"seed", seed},
          {"vocab_pieces", vocab_pieces},
          {"vision", {{"image_side", image_side}, {"patch", patch}, {"width", vision_width}, {"layers", vision_layers},
                      {"heads", vision_heads}, {"mlp", vision_mlp}}},
          {"llm", {{"width", width}, {"layers", layers}, {"heads", heads}, {"kv_heads", kv_heads}, {"mlp", mlp},
                   {"max_positions", max_positions}}},
          {"clip", {{"steps", clip_steps}, {"batch", clip_batch}, {"lr", clip_lr}}},
          {"lm", {{"steps", lm_steps}, {"batch", lm_batch}, {"max_tokens", lm_max_tokens}, {"lr", lm_lr}}}};
}

BaseSpec base_preset(const std::string& name) {
  BaseSpec s;
  if (name == "default") return s;
  if (name == "test") {
    s.vocab_pieces = 400;
    s.clip_steps = 40;
    s.clip_batch = 64;
    s.lm_steps = 60;
    s.lm_batch = 16;
    return s;
  }
  throw std::invalid_argument("unknown base model size '" + name + "' (default | test)");
}

bool base_is_current(const BaseSpec& spec, const fs::path& world_dir, const fs::path& out_dir) {
  return fs::exists(world_dir / "world.json") && stamp_matches(out_dir / "lnbench_base.json", "key", stamp_key(spec, world_dir));
}

ordered_json build_base_model(const BaseSpec& spec, const fs::path& world_dir, const fs::path& out_dir,
                              const BaseProgress& progress) {
  const auto t_start = std::chrono::steady_clock::now();
  const auto report = [&](const std::string& phase, int64_t step, int64_t total, double loss) {
    if (progress) progress(phase, step, total, loss);
  };
  fs::create_directories(out_dir);
  fs::remove(out_dir / "lnbench_base.json");
  ordered_json log = ordered_json::object();

  // --- 1. tokenizer --------------------------------------------------------------------
  const std::vector<training::Conversation> chats = training::read_conversations(world_dir / "train/text_chat.json");
  const std::vector<training::Conversation> pairs = training::read_conversations(world_dir / "train/llava_pretrain.json");
  const std::vector<std::string> corpus = read_lines(world_dir / "train/corpus.txt");
  const model::ChatTemplate& vicuna = model::chat_template("vicuna_v1");
  std::vector<std::string> sentences = corpus;
  for (const auto& c : chats) sentences.push_back(model::render_chat(vicuna, chat_turns(c)));
  const std::string proto = train_tokenizer(sentences, spec.vocab_pieces);
  common::write_file_atomic(out_dir / "tokenizer.model", proto);
  const model::Tokenizer tok = model::Tokenizer::from_serialized(proto, (out_dir / "tokenizer.model").string());
  const int64_t pieces = tok.vocab_size();
  log["tokenizer"] = {{"pieces", pieces}, {"sentences", sentences.size()}};
  report("tokenizer", 1, 1, 0);

  // --- the model, HF-initialised ---------------------------------------------------------
  model::LlavaConfig c;
  c.name = "shapes-world base";
  c.vision.hidden_size = spec.vision_width;
  c.vision.intermediate_size = spec.vision_mlp;
  c.vision.n_layers = spec.vision_layers;
  c.vision.n_heads = spec.vision_heads;
  c.vision.image_size = spec.image_side;
  c.vision.patch_size = spec.patch;
  c.vision.feature_layer = -2;
  c.text.vocab_size = pieces + 2;  // + <image>, <pad>, as llava-hf adds them
  c.text.hidden_size = spec.width;
  c.text.intermediate_size = spec.mlp;
  c.text.n_layers = spec.layers;
  c.text.n_heads = spec.heads;
  c.text.n_kv_heads = spec.kv_heads;
  c.text.max_position_embeddings = spec.max_positions;
  c.text.rms_norm_eps = 1e-5;
  c.projector = model::ProjectorKind::kMlp2xGelu;
  c.image_token_index = pieces;
  c.pad_token_id = pieces + 1;
  model::LlavaModel m(c);
  hf_init(*m, spec.seed);

  // --- 2. vision tower, contrastive (CLIP's symmetric InfoNCE, learned temperature) -------
  {
    const auto t0 = std::chrono::steady_clock::now();
    model::ImageProcessorConfig ip;
    ip.shortest_edge = ip.crop = static_cast<int>(spec.image_side);
    std::vector<at::Tensor> pixels;
    std::vector<std::vector<int64_t>> caption_ids;
    TextTower text(pieces, 4096, spec.vision_width, spec.vision_width);
    for (const auto& p : pairs) {
      pixels.push_back(model::preprocess_image(model::decode_image(world_dir / p.image), ip));
      caption_ids.push_back(text->features(tok.encode(p.messages.at(1).value, false)));
    }
    const at::Tensor all_pixels = at::stack(pixels);
    torch::nn::Linear visual_projection(torch::nn::LinearOptions(spec.vision_width, spec.vision_width).bias(false));
    at::Tensor log_scale = at::full({}, std::log(1 / 0.07)).set_requires_grad(true);
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const auto& p : m->vision_model->named_parameters()) named.emplace_back("vision_model." + p.key(), p.value());
    for (const auto& p : text->named_parameters()) named.emplace_back("text_model." + p.key(), p.value());
    for (const auto& p : visual_projection->named_parameters()) named.emplace_back("visual_projection." + p.key(), p.value());
    named.emplace_back("logit_scale", log_scale);
    const std::vector<at::Tensor> params = tensors_of(named);
    const training::OptimOptions optim = phase_optim(spec.clip_lr, 0.1);
    const auto opt = training::make_adamw(named, optim);
    std::mt19937_64 rng(spec.seed + 1);
    const int64_t n = all_pixels.size(0), batch = std::min<int64_t>(spec.clip_batch, n);
    m->vision_model->train();
    report("vision (contrastive)", 0, spec.clip_steps, std::nan(""));
    double loss_value = 0;
    for (int64_t step = 0; step < spec.clip_steps; ++step) {
      std::vector<int64_t> idx(static_cast<size_t>(batch));
      for (auto& i : idx) i = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      const int64_t b = static_cast<int64_t>(idx.size());
      size_t longest = 1;
      for (int64_t i : idx) longest = std::max(longest, caption_ids[static_cast<size_t>(i)].size());
      at::Tensor feats = at::full({b, static_cast<int64_t>(longest)}, text->pad(), at::kLong);
      for (int64_t r = 0; r < b; ++r) {
        const auto& f = caption_ids[static_cast<size_t>(idx[static_cast<size_t>(r)])];
        feats[r].narrow(0, 0, static_cast<int64_t>(f.size())).copy_(at::tensor(f, at::kLong));
      }
      const at::Tensor img = m->vision_model->hidden_state(all_pixels.index_select(0, at::tensor(idx, at::kLong)), c.vision.n_layers);
      // Pooled over every token (not CLS alone), so the patch tokens LLaVA reads carry
      // what the caption says.
      const at::Tensor cls = m->vision_model->post_layernorm->forward(img.mean(1));
      const at::Tensor zi = unit_rows(visual_projection->forward(cls));
      const at::Tensor zt = unit_rows(text->forward(feats));
      const at::Tensor logits = zi.matmul(zt.t()) * log_scale.clamp_max(std::log(100.0)).exp();
      const at::Tensor target = at::arange(b, at::kLong);
      const at::Tensor loss = (at::cross_entropy_loss(logits, target) + at::cross_entropy_loss(logits.t(), target)) / 2;
      loss_value = optimizer_step(*opt, optim, params, loss, step, spec.clip_steps);
      if ((step + 1) % 10 == 0 || step + 1 == spec.clip_steps) report("vision (contrastive)", step + 1, spec.clip_steps, loss_value);
    }
    m->vision_model->eval();
    log["vision"] = {{"pairs", n}, {"steps", spec.clip_steps}, {"final_loss", loss_value}, {"chance_loss", std::log(static_cast<double>(batch))},
                     {"seconds", seconds_since(t0)}};
  }

  // --- 3. language model on the corpus and the text-only chats ------------------------------
  {
    const auto t0 = std::chrono::steady_clock::now();
    struct Seq {
      std::vector<int64_t> ids, labels;
    };
    std::vector<Seq> seqs;
    for (const auto& conv : chats) {
      training::TokenizedSample s = training::tokenize_conversation(conv, vicuna, tok);
      if (s.mismatch) continue;
      if (static_cast<int64_t>(s.ids.size()) > spec.lm_max_tokens) continue;
      seqs.push_back({s.ids, s.labels});
    }
    const size_t n_chats = seqs.size();
    for (size_t i = 0; i < corpus.size();) {
      std::string doc;
      for (int k = 0; k < 6 && i < corpus.size(); ++k, ++i) doc += (k ? "\n" : "") + corpus[i];
      std::vector<int64_t> ids = tok.encode(doc, true);
      ids.push_back(tok.eos_id());
      if (static_cast<int64_t>(ids.size()) > spec.lm_max_tokens) ids.resize(static_cast<size_t>(spec.lm_max_tokens));
      seqs.push_back({ids, ids});
    }
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const auto& p : m->llm->named_parameters()) named.emplace_back("language_model." + p.key(), p.value());
    for (const auto& p : m->lm_head->named_parameters()) named.emplace_back("lm_head." + p.key(), p.value());
    const std::vector<at::Tensor> params = tensors_of(named);
    const training::OptimOptions optim = phase_optim(spec.lm_lr, 0.0);
    const auto opt = training::make_adamw(named, optim);
    std::mt19937_64 rng(spec.seed + 2);
    const int64_t pad = pieces + 1;
    m->llm->train();
    report("language model", 0, spec.lm_steps, std::nan(""));
    double loss_value = 0;
    for (int64_t step = 0; step < spec.lm_steps; ++step) {
      std::vector<const Seq*> batch;
      size_t longest = 0;
      for (int64_t b = 0; b < spec.lm_batch; ++b) {
        // Chats (the answers are all their labels) 70 % of the time, corpus documents 30 %.
        const bool chat = n_chats > 0 && (n_chats == seqs.size() || rng() % 10 < 7);
        const size_t i = chat ? rng() % n_chats : n_chats + rng() % (seqs.size() - n_chats);
        batch.push_back(&seqs[i]);
        longest = std::max(longest, batch.back()->ids.size());
      }
      const int64_t B = static_cast<int64_t>(batch.size()), T = static_cast<int64_t>(longest);
      at::Tensor ids = at::full({B, T}, pad, at::kLong), labels = at::full({B, T}, training::kIgnore, at::kLong);
      for (int64_t r = 0; r < B; ++r) {
        const Seq& s = *batch[static_cast<size_t>(r)];
        const int64_t len = static_cast<int64_t>(s.ids.size());
        ids[r].narrow(0, 0, len).copy_(at::tensor(s.ids, at::kLong));
        labels[r].narrow(0, 0, len).copy_(at::tensor(s.labels, at::kLong));
      }
      model::DecoderInputs in;
      in.positions = at::arange(T, at::kLong).unsqueeze(0).expand({B, T});
      const at::Tensor logits = m->logits(m->llm->embed_tokens->forward(ids), in, nullptr);
      const at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, T - 1).reshape({-1, logits.size(-1)}),
                                                     labels.narrow(1, 1, T - 1).reshape({-1}), {}, at::Reduction::Mean, training::kIgnore);
      loss_value = optimizer_step(*opt, optim, params, loss, step, spec.lm_steps);
      if ((step + 1) % 10 == 0 || step + 1 == spec.lm_steps) report("language model", step + 1, spec.lm_steps, loss_value);
    }
    m->llm->eval();
    log["language_model"] = {{"chat_sequences", n_chats}, {"corpus_documents", seqs.size() - n_chats}, {"steps", spec.lm_steps},
                             {"final_loss", loss_value}, {"seconds", seconds_since(t0)}};
  }

  // --- 4. save as llava-hf ---------------------------------------------------------------------
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : m->named_parameters()) {
    const std::string key = hf_key(p.key());
    const std::optional<std::string> back = model::canonical_name(key);
    if (!back || *back != p.key()) throw std::logic_error("demo base model: " + key + " does not load back as " + p.key());
    tensors.emplace_back(key, p.value().detach().contiguous());
  }
  model::save_safetensors(out_dir / "model.safetensors", tensors);
  common::write_file_atomic(out_dir / "config.json", hf_config(c, pieces).dump(2) + "\n");
  const ordered_json preprocessor = {
      {"crop_size", {{"height", spec.image_side}, {"width", spec.image_side}}}, {"do_center_crop", true}, {"do_convert_rgb", true},
      {"do_normalize", true}, {"do_rescale", true}, {"do_resize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"image_processor_type", "CLIPImageProcessor"}, {"resample", 3}, {"rescale_factor", 1.0 / 255.0},
      {"size", {{"shortest_edge", spec.image_side}}}};
  common::write_file_atomic(out_dir / "preprocessor_config.json", preprocessor.dump(2) + "\n");
  ordered_json stamp = {{"schema", "lnbench.demo_base/1"}, {"key", stamp_key(spec, world_dir)}, {"training", log},
                        {"seconds", seconds_since(t_start)}};
  common::write_file_atomic(out_dir / "lnbench_base.json", stamp.dump(2) + "\n");
  return stamp;
}

}  // namespace lnb::harness::demo
