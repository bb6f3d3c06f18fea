// See trainer.h. One optimizer step = the global batch's micro-batches on every rank:
// collate all of this rank's micro-batches, all-reduce the label-token count, then
// forward/backward each with loss_sum / count, all-reduce the gradients (bucketed),
// clip, schedule, AdamW.
#include "training/trainer.h"

#include "model/fingerprint.h"

#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "common/json_io.h"
#include "common/file_io.h"
#include "model/chat_template.h"
#include "model/image_preprocess.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "training/accounting.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/distributed.h"
#include "training/memory.h"
#include "training/optimizer.h"

namespace lnb::training {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A sample after image expansion and truncation.
struct Sample {
  std::vector<int64_t> ids, labels;
  std::vector<uint8_t> is_image;
  std::string image;  // "" text-only
  int64_t image_rows = 0;  // image positions kept after truncation
};

struct Batch {
  at::Tensor ids, labels, image_mask, positions;  // (B, T)
  std::vector<std::string> images;                // one per row with an image, in row order
  std::vector<int64_t> image_rows;
  int64_t label_tokens = 0, tokens = 0;
};

// Fisher-Yates with our own draws: the same order on every platform for a seed.
std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[static_cast<size_t>(i)], p[rng() % static_cast<uint64_t>(i + 1)]);
  return p;
}

class Trainer {
 public:
  Trainer(const TrainOptions& o, Dist& dist, const StepCallback& cb) : o_(o), dist_(dist), cb_(cb) {}
  nlohmann::json run();
  model::LlavaModel model() const { return m_.model; }

 private:
  void validate() const;
  void load();
  void select_trainable();
  void build_data();
  void build_optimizer();
  bool try_resume();
  Batch collate(const std::vector<int64_t>& indices);
  at::Tensor image_embeds(const Batch& b);
  at::Tensor vision_features(const std::string& image);
  StepRecord step(int64_t s);
  void save(int64_t steps_done);
  std::vector<std::pair<std::string, at::Tensor>> optimizer_tensors();
  int64_t optimizer_state_bytes() const;
  nlohmann::json report() const;
  std::vector<int64_t> step_indices(int64_t s);

  TrainOptions o_;
  Dist& dist_;
  StepCallback cb_;
  c10::Device device_{c10::kCPU};
  c10::ScalarType dtype_ = c10::kFloat;
  const Strategy* strategy_ = nullptr;
  model::LoadedModel m_;
  std::string base_fingerprint_;
  std::vector<std::pair<std::string, at::Tensor>> trainable_;  // name order
  std::unique_ptr<torch::optim::AdamW> optim_;
  std::vector<Sample> samples_;
  int64_t mismatched_ = 0, truncated_ = 0;
  std::map<std::string, at::Tensor> feature_cache_;
  int64_t feature_cache_bytes_ = 0;
  int64_t total_steps_ = 0, steps_per_epoch_ = 0, start_step_ = 0;
  int64_t perm_epoch_ = -1;  // the epoch `perm_` belongs to
  std::vector<int64_t> perm_;
  std::vector<StepRecord> curve_;
  MemoryReading at_start_{};
  double train_seconds_ = 0;
  int64_t tokens_seen_ = 0;
  int64_t optimizer_bytes_ = 0;
};

void Trainer::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(o_.batch_size >= 1, "--batch-size: expected >= 1, got " + std::to_string(o_.batch_size));
  need(o_.grad_accum >= 1, "--grad-accum: expected >= 1, got " + std::to_string(o_.grad_accum));
  need(o_.epochs >= 1 || o_.max_steps > 0, "--epochs: expected >= 1 (or --max-steps > 0)");
  need(o_.max_length >= 8, "--max-length: expected >= 8, got " + std::to_string(o_.max_length));
  need(o_.optim.lr >= 0 && std::isfinite(o_.optim.lr), "--lr: expected a finite rate >= 0");
  need(o_.optim.warmup_ratio >= 0 && o_.optim.warmup_ratio <= 1, "--warmup-ratio: expected a value in [0, 1]");
  need(o_.optim.beta1 >= 0 && o_.optim.beta1 < 1 && o_.optim.beta2 >= 0 && o_.optim.beta2 < 1,
       "--adam-betas: expected values in [0, 1)");
  need(o_.lora.rank >= 1, "--lora-rank: expected >= 1");
  need(o_.lora.dropout >= 0 && o_.lora.dropout < 1, "--lora-dropout: expected a value in [0, 1)");
  need(!o_.out_dir.empty(), "--out: an output folder is required");
  need(!model::chat_template(o_.template_name).eval_only,
       "--template: '" + o_.template_name + "' is an evaluation template (the authors' protocol); train with vicuna_v1, "
       "llava_llama_2 or plain");
}

void Trainer::load() {
  device_ = c10::Device(o_.device);
  dtype_ = model::parse_dtype(o_.dtype);
  if (dtype_ != c10::kFloat && !device_.is_cuda())
    throw std::invalid_argument("--dtype " + o_.dtype + ": half-precision training needs a CUDA device (got " + o_.device + ")");
  if (device_.is_cpu()) install_counting_cpu_allocator();
  if (device_.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(o_.tf32);
    at::globalContext().setAllowTF32CuDNN(o_.tf32);
  }
  at::manual_seed(o_.seed);
  model::LoadOptions lo;
  lo.vision_tower = o_.vision_tower;
  lo.dtype = dtype_;
  lo.device = device_;
  m_ = model::load_model(o_.model_dir, lo);
  if (!m_.tokenizer) throw std::invalid_argument(o_.model_dir.string() + ": training needs the model's tokenizer.model");
  base_fingerprint_ = model::model_fingerprint(o_.model_dir);
  if (!o_.init_checkpoint.empty()) apply_delta(m_, o_.init_checkpoint);
}

void Trainer::select_trainable() {
  strategy_ = &find_strategy(o_.strategy);
  if (strategy_->injects()) {
    at::manual_seed(o_.seed);  // identical adapter init on every rank
    inject_modules(m_.model, *strategy_, o_.lora, o_.adapter, o_.prefix);
  }
  for (auto& item : m_.model->named_parameters()) item.value().set_requires_grad(trains(*strategy_, item.key()));
  trainable_ = trained_tensors(m_.model);
  if (trainable_.empty()) throw std::invalid_argument("strategy '" + o_.strategy + "' trains no tensor of this model");
  // Re-point at the live parameters (trained_tensors detaches).
  auto params = m_.model->named_parameters();
  for (auto& [name, t] : trainable_) t = *params.find(name);
  m_.model->train();
  m_.model->vision_model->eval();
  m_.model->llm->gradient_checkpointing = o_.gradient_checkpointing;
  at::manual_seed(o_.seed + static_cast<uint64_t>(dist_.rank()));  // dropout differs per rank, as in DDP
}

void Trainer::build_data() {
  const std::vector<Conversation> convs = read_conversations(o_.data_file);
  const model::ChatTemplate& tmpl = model::chat_template(o_.template_name);
  const bool has_vision = m_.config.has_vision;
  const int64_t Np = has_vision ? m_.config.vision.n_patches() : 0;
  for (size_t i = 0; i < convs.size(); ++i) {
    const Conversation& c = convs[i];
    if (!c.image.empty() && !has_vision)
      throw TrainDataError(o_.data_file.string() + ": sample " + std::to_string(i) + " (id " + c.id +
                           "): image: the model has no vision tower; remove the image or use a LLaVA model");
    if (!c.image.empty() && !fs::exists(o_.image_dir / c.image))
      throw TrainDataError(o_.data_file.string() + ": sample " + std::to_string(i) + " (id " + c.id + "): image: '" +
                           (o_.image_dir / c.image).string() + "' does not exist (is --images right?)");
    const TokenizedSample t = tokenize_conversation(c, tmpl, *m_.tokenizer);
    mismatched_ += t.mismatch ? 1 : 0;
    Sample s;
    s.image = c.image;
    for (size_t k = 0; k < t.ids.size(); ++k) {
      if (t.ids[k] == model::kImageSlot) {
        const int64_t id = m_.image_token_id >= 0 ? m_.image_token_id : m_.pad_id;
        for (int64_t p = 0; p < Np; ++p) s.ids.push_back(id), s.labels.push_back(kIgnore), s.is_image.push_back(1);
        continue;
      }
      s.ids.push_back(t.ids[k]);
      s.labels.push_back(t.labels[k]);
      s.is_image.push_back(0);
    }
    if (static_cast<int64_t>(s.ids.size()) > o_.max_length) {
      ++truncated_;
      s.ids.resize(static_cast<size_t>(o_.max_length));
      s.labels.resize(s.ids.size());
      s.is_image.resize(s.ids.size());
    }
    for (uint8_t b : s.is_image) s.image_rows += b;
    if (s.image_rows == 0) s.image.clear();
    samples_.push_back(std::move(s));
  }
  if (samples_.empty()) throw TrainDataError(o_.data_file.string() + ": no training samples");
  const int64_t global_batch = o_.batch_size * o_.grad_accum * dist_.world_size();
  steps_per_epoch_ = (static_cast<int64_t>(samples_.size()) + global_batch - 1) / global_batch;
  total_steps_ = o_.max_steps > 0 ? o_.max_steps : o_.epochs * steps_per_epoch_;
}

void Trainer::build_optimizer() { optim_ = make_adamw(trainable_, o_.optim); }

std::vector<std::pair<std::string, at::Tensor>> Trainer::optimizer_tensors() {
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto& state = optim_->state();
  for (const auto& [name, t] : trainable_) {
    auto it = state.find(t.unsafeGetTensorImpl());
    if (it == state.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    out.emplace_back(name + ".exp_avg", s.exp_avg());
    out.emplace_back(name + ".exp_avg_sq", s.exp_avg_sq());
    out.emplace_back(name + ".step", at::full({1}, s.step(), at::kLong));
  }
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  out.emplace_back("rng.cpu", gen.get_state());
  return out;
}

int64_t Trainer::optimizer_state_bytes() const {
  int64_t bytes = 0;
  for (const auto& [key, state] : optim_->state()) {
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*state);
    bytes += static_cast<int64_t>(s.exp_avg().nbytes() + s.exp_avg_sq().nbytes());
    if (s.max_exp_avg_sq().defined()) bytes += static_cast<int64_t>(s.max_exp_avg_sq().nbytes());
  }
  return bytes;
}

// Options that must match for a checkpoint to be continued.
nlohmann::json resume_key(const TrainOptions& o, int world) {
  nlohmann::json j = o.to_json();
  for (const char* volatile_key : {"save_every", "resume", "out_dir", "max_steps", "peft_adapter", "save_final"}) j.erase(volatile_key);
  j["world_size"] = world;
  return j;
}

bool Trainer::try_resume() {
  const fs::path ck = o_.out_dir / "checkpoint";
  fs::path dir = ck;
  if (!fs::exists(dir / "trainer_state.json") && fs::exists(ck.string() + ".old/trainer_state.json")) dir = ck.string() + ".old";
  if (!o_.resume || !fs::exists(dir / "trainer_state.json")) return false;
  const nlohmann::json st = common::read_json((dir / "trainer_state.json").string());
  if (!st.is_object() || !st.contains("step") || !st.contains("options"))
    throw std::invalid_argument((dir / "trainer_state.json").string() + ": not a trainer state (fields step, options)");
  if (st["options"] != resume_key(o_, dist_.world_size()))
    throw std::invalid_argument((dir / "trainer_state.json").string() +
                                ": the checkpoint was trained with other options; use another --out or --no-resume\n  theirs: " +
                                st["options"].dump() + "\n  yours:  " + resume_key(o_, dist_.world_size()).dump());
  model::apply_checkpoint(m_.model, dir / "model.safetensors");
  const model::SafetensorsCheckpoint opt(dir / "optimizer.safetensors");
  auto& state = optim_->state();
  for (const auto& [name, t] : trainable_) {
    if (!opt.contains(name + ".exp_avg")) continue;
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(opt.tensor(name + ".step").item<int64_t>());
    s->exp_avg(opt.tensor(name + ".exp_avg").to(t.device(), t.scalar_type()));
    s->exp_avg_sq(opt.tensor(name + ".exp_avg_sq").to(t.device(), t.scalar_type()));
    state[t.unsafeGetTensorImpl()] = std::move(s);
  }
  if (opt.contains("rng.cpu")) {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(opt.tensor("rng.cpu"));
  }
  start_step_ = st["step"].get<int64_t>();
  if (st.contains("curve"))
    for (const auto& r : st["curve"])
      curve_.push_back({r["step"], r["loss"], r["lr"], r["grad_norm"], r["seconds"], r["tokens"]});
  train_seconds_ = st.value("train_seconds", 0.0);
  return true;
}

std::vector<int64_t> Trainer::step_indices(int64_t s) {
  const int64_t epoch = s / steps_per_epoch_, k = s % steps_per_epoch_;
  if (epoch != perm_epoch_) {
    perm_ = permutation(static_cast<int64_t>(samples_.size()), o_.seed * 1000003ULL + static_cast<uint64_t>(epoch));
    perm_epoch_ = epoch;
  }
  const int64_t G = o_.batch_size * o_.grad_accum * dist_.world_size();
  const int64_t n = static_cast<int64_t>(samples_.size());
  std::vector<int64_t> mine;
  for (int64_t j = k * G; j < std::min((k + 1) * G, n); ++j)
    if ((j - k * G) % dist_.world_size() == dist_.rank()) mine.push_back(perm_[static_cast<size_t>(j)]);
  return mine;
}

Batch Trainer::collate(const std::vector<int64_t>& indices) {
  Batch b;
  const int64_t B = static_cast<int64_t>(indices.size());
  int64_t T = 0;
  for (int64_t i : indices) T = std::max<int64_t>(T, static_cast<int64_t>(samples_[static_cast<size_t>(i)].ids.size()));
  std::vector<int64_t> ids(B * T, m_.pad_id), labels(B * T, kIgnore), pos(B * T, 0);
  std::vector<uint8_t> img(B * T, 0);
  for (int64_t r = 0; r < B; ++r) {  // right padding: the causal mask keeps real tokens exact
    const Sample& s = samples_[static_cast<size_t>(indices[r])];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids[r * T + t] = s.ids[t];
      labels[r * T + t] = s.labels[t];
      img[r * T + t] = s.is_image[t];
      pos[r * T + t] = static_cast<int64_t>(t);
      if (t > 0 && s.labels[t] != kIgnore) ++b.label_tokens;
    }
    b.tokens += static_cast<int64_t>(s.ids.size());
    if (!s.image.empty()) b.images.push_back(s.image), b.image_rows.push_back(s.image_rows);
  }
  auto lopt = at::TensorOptions().dtype(at::kLong);
  b.ids = at::tensor(ids, lopt).view({B, T}).to(device_);
  b.labels = at::tensor(labels, lopt).view({B, T}).to(device_);
  b.positions = at::tensor(pos, lopt).view({B, T}).to(device_);
  b.image_mask = at::tensor(std::vector<int64_t>(img.begin(), img.end()), lopt).view({B, T}).to(device_).to(at::kBool);
  return b;
}

at::Tensor Trainer::vision_features(const std::string& image) {
  auto it = feature_cache_.find(image);
  if (it != feature_cache_.end()) return it->second;
  // preprocess_image pads to a square itself when the model asks for it.
  const at::Tensor pixels = model::preprocess_image(model::decode_image(o_.image_dir / image), m_.image).unsqueeze(0).to(device_, dtype_);  // (1, 3, S, S)
  at::Tensor f;
  {
    at::NoGradGuard no_grad;
    f = m_.model->vision_features(pixels)[0];  // (Np, Dv), frozen in every strategy
  }
  constexpr int64_t kCacheBudget = int64_t{1} << 30;  // same budget for every strategy
  if (feature_cache_bytes_ + static_cast<int64_t>(f.nbytes()) <= kCacheBudget) {
    feature_cache_bytes_ += static_cast<int64_t>(f.nbytes());
    feature_cache_.emplace(image, f);
  }
  return f;
}

at::Tensor Trainer::image_embeds(const Batch& b) {
  if (b.images.empty()) return {};
  std::vector<at::Tensor> rows;
  for (size_t i = 0; i < b.images.size(); ++i) rows.push_back(vision_features(b.images[i]).narrow(0, 0, b.image_rows[i]));
  return m_.model->project(at::cat(rows, 0));  // (K, D), row-major order of the image mask
}

StepRecord Trainer::step(int64_t s) {
  const auto t0 = Clock::now();
  const std::vector<int64_t> mine = step_indices(s);
  std::vector<Batch> micro;
  for (size_t i = 0; i < mine.size(); i += static_cast<size_t>(o_.batch_size))
    micro.push_back(collate(std::vector<int64_t>(mine.begin() + static_cast<long>(i),
                                                 mine.begin() + static_cast<long>(std::min(mine.size(), i + static_cast<size_t>(o_.batch_size))))));
  int64_t local_tokens = 0, local_inputs = 0;
  for (const Batch& b : micro) local_tokens += b.label_tokens, local_inputs += b.tokens;
  const auto n_tokens = static_cast<int64_t>(dist_.sum_scalars({static_cast<double>(local_tokens)})[0]);
  const double denom = static_cast<double>(std::max<int64_t>(n_tokens, 1));
  double loss_sum = 0;
  for (const Batch& b : micro) {
    const at::Tensor embeds = m_.model->embed(b.ids, b.image_mask, image_embeds(b));
    const at::Tensor logits = m_.model->logits(embeds, {b.positions, {}}, nullptr);  // (B, T, V) fp32
    const int64_t V = logits.size(-1);
    // Shift the labels, not the logits (as transformers' ForCausalLMLoss): slicing the
    // (B, T, V) logits would copy them, and their gradient, once more.
    const at::Tensor next = at::cat({b.labels.narrow(1, 1, b.labels.size(1) - 1),
                                     at::full({b.labels.size(0), 1}, kIgnore, b.labels.options())}, 1);  // (B, T)
    const at::Tensor sum = at::cross_entropy_loss(logits.view({-1, V}), next.view({-1}), {}, at::Reduction::Sum, kIgnore);
    // A micro-batch that no trained tensor touches (text-only rows under `connector`)
    // adds to the loss but has no gradient.
    if (sum.requires_grad()) (sum / denom).backward();
    loss_sum += sum.item<double>();
  }
  std::vector<at::Tensor> grads;
  for (auto& [name, t] : trainable_) {
    if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);  // every rank reduces the same list
    grads.push_back(t.grad());
  }
  dist_.all_reduce_sum(grads);
  const std::vector<double> sums = dist_.sum_scalars({loss_sum, static_cast<double>(local_inputs)});
  const double loss = sums[0] / denom;
  tokens_seen_ += static_cast<int64_t>(sums[1]);
  StepRecord r;
  r.step = s + 1;
  r.loss = loss;
  r.tokens = n_tokens;
  if (!std::isfinite(loss))
    throw TrainingDiverged("step " + std::to_string(s + 1) + ": the loss is " + std::to_string(loss) +
                           "; training stopped (lower --lr?). The last good checkpoint, if any, is in " +
                           (o_.out_dir / "checkpoint").string());
  std::vector<at::Tensor> params;
  for (auto& [name, t] : trainable_) params.push_back(t);
  r.grad_norm = o_.optim.max_grad_norm > 0
                    ? torch::nn::utils::clip_grad_norm_(params, o_.optim.max_grad_norm)
                    : torch::nn::utils::clip_grad_norm_(params, std::numeric_limits<double>::infinity());
  if (!std::isfinite(r.grad_norm))
    throw TrainingDiverged("step " + std::to_string(s + 1) + ": the gradient norm is " + std::to_string(r.grad_norm) +
                           "; training stopped. The last good checkpoint, if any, is in " + (o_.out_dir / "checkpoint").string());
  r.lr = o_.optim.lr * lr_multiplier(s, total_steps_, o_.optim.warmup_ratio);
  set_lr(*optim_, r.lr);
  optim_->step();
  optim_->zero_grad(/*set_to_none=*/true);
  r.seconds = seconds_since(t0);
  return r;
}

void Trainer::save(int64_t steps_done) {
  if (dist_.is_main()) {
    nlohmann::json meta = {{"schema", "lnbench.checkpoint/1"},
                           {"strategy", o_.strategy},
                           {"step", steps_done},
                           {"total_steps", total_steps_},
                           {"base_model", {{"path", fs::absolute(o_.model_dir).string()}, {"fingerprint", base_fingerprint_}}},
                           {"train_options", o_.to_json()}};
    meta.update(injection_meta(*strategy_, o_.lora, o_.adapter, o_.prefix));
    nlohmann::json curve = nlohmann::json::array();
    for (const StepRecord& r : curve_)
      curve.push_back({{"step", r.step}, {"loss", r.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm}, {"seconds", r.seconds}, {"tokens", r.tokens}});
    const nlohmann::json state = {{"step", steps_done}, {"options", resume_key(o_, dist_.world_size())}, {"curve", curve},
                                  {"train_seconds", train_seconds_}};
    const bool peft = o_.peft_adapter && peft_form(*strategy_) != PeftForm::kNone;
    save_checkpoint(o_.out_dir / "checkpoint", m_.model, meta, *strategy_, strategy_->lora ? &o_.lora : nullptr, peft,
                    optimizer_tensors(), state);
  }
  dist_.barrier();
}

nlohmann::json Trainer::report() const {
  const ParamCounts expected = count_params(m_.config, *strategy_, o_.lora, o_.adapter, o_.prefix);
  int64_t total = 0, trainable = 0;
  for (const auto& item : m_.model->named_parameters()) {
    total += item.value().numel();
    if (item.value().requires_grad()) trainable += item.value().numel();
  }
  // The table-derived counts (`lnbench params`) and the live model must agree.
  TORCH_CHECK(total == expected.total() && trainable == expected.trainable, "parameter accounting mismatch: model has ",
              trainable, "/", total, ", table says ", expected.trainable, "/", expected.total());
  const MemoryReading mem = read_memory(device_);
  int64_t ckpt_bytes = 0;
  if (fs::exists(o_.out_dir / "checkpoint" / "model.safetensors"))
    ckpt_bytes = static_cast<int64_t>(fs::file_size(o_.out_dir / "checkpoint" / "model.safetensors"));
  double step_mean = 0;
  nlohmann::json curve = nlohmann::json::array();
  for (const StepRecord& r : curve_) {
    step_mean += r.seconds / static_cast<double>(curve_.size());
    curve.push_back({{"step", r.step}, {"loss", r.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm}, {"tokens", r.tokens},
                     {"seconds", r.seconds}});
  }
  nlohmann::ordered_json j = {
      {"schema", "lnbench.train/1"},
      {"model", m_.config.name},
      {"strategy", o_.strategy},
      {"trainable_params", trainable},
      {"total_params", total},
      {"trainable_pct", total ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0.0},
      {"optimizer_state_bytes", optimizer_bytes_},
      {"peak_train_memory_bytes", mem.peak_bytes},
      {"checkpoint_bytes", ckpt_bytes},
      {"train_seconds", train_seconds_},
      {"memory", {{"source", mem.source}, {"weights_and_state_at_start_bytes", at_start_.live_bytes},
                  {"peak_rss_bytes", mem.peak_rss_bytes}, {"vision_feature_cache_bytes", feature_cache_bytes_}}},
      {"steps", curve_.empty() ? 0 : curve_.back().step},
      {"step_seconds_mean", step_mean},
      {"tokens_per_s", train_seconds_ > 0 ? static_cast<double>(tokens_seen_) / train_seconds_ : 0.0},
      {"data", {{"samples", samples_.size()}, {"tokenization_mismatches", mismatched_}, {"truncated", truncated_}}},
      {"distributed", {{"world_size", dist_.world_size()}, {"backend", dist_.backend()}}},
      {"base_model", {{"path", fs::absolute(o_.model_dir).string()}, {"fingerprint", base_fingerprint_}}},
      {"options", o_.to_json()},
      {"loss_curve", curve}};
  return j;
}

nlohmann::json Trainer::run() {
  validate();
  load();
  select_trainable();
  build_data();
  build_optimizer();
  fs::create_directories(o_.out_dir);
  try_resume();
  reset_peak_memory(device_);
  at_start_ = read_memory(device_);
  for (int64_t s = start_step_; s < total_steps_; ++s) {
    const StepRecord r = step(s);
    train_seconds_ += r.seconds;
    curve_.push_back(r);
    if (optimizer_bytes_ == 0) optimizer_bytes_ = optimizer_state_bytes();
    if (dist_.is_main() && cb_) cb_(r, total_steps_);
    if (o_.save_every > 0 && (s + 1) % o_.save_every == 0 && s + 1 < total_steps_) save(s + 1);
  }
  if (o_.save_final) save(total_steps_);
  nlohmann::json j = report();
  if (dist_.is_main()) common::write_file_atomic(o_.out_dir / "train.json", j.dump(2) + "\n");
  return j;
}

}  // namespace

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<std::pair<std::string, at::Tensor>>& params,
                                                const OptimOptions& o) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& [name, t] : params) {
    bool excluded = false;
    for (const std::string& pat : o.no_decay) excluded = excluded || name.find(pat) != std::string::npos;
    (excluded ? no_decay : decay).push_back(t);
  }
  auto opts = [&](double wd) {
    return torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(wd);
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(opts(o.weight_decay)));
  if (!no_decay.empty()) groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(opts(0.0)));
  return std::make_unique<torch::optim::AdamW>(groups, opts(o.weight_decay));
}

void set_lr(torch::optim::AdamW& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

double lr_multiplier(int64_t step, int64_t total, double warmup_ratio, double min_lr_ratio) {
  const int64_t warmup = static_cast<int64_t>(std::ceil(static_cast<double>(total) * warmup_ratio));
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  const double factor = 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress));
  return std::max(0.0, factor * (1 - min_lr_ratio) + min_lr_ratio);
}

nlohmann::json TrainOptions::to_json() const {
  nlohmann::json j = {{"model_dir", model_dir.string()},
          {"vision_tower", vision_tower.string()},
          {"data_file", data_file.string()},
          {"image_dir", image_dir.string()},
          {"out_dir", out_dir.string()},
          {"init_checkpoint", init_checkpoint.string()},
          {"strategy", strategy},
          {"lora", {{"rank", lora.rank}, {"alpha", lora.alpha}, {"dropout", lora.dropout}, {"targets", lora.targets}}},
          {"template", template_name},
          {"lr", optim.lr},
          {"adam_betas", {optim.beta1, optim.beta2}},
          {"adam_eps", optim.eps},
          {"weight_decay", optim.weight_decay},
          {"no_decay", optim.no_decay},
          {"warmup_ratio", optim.warmup_ratio},
          {"max_grad_norm", optim.max_grad_norm},
          {"epochs", epochs},
          {"max_steps", max_steps},
          {"batch_size", batch_size},
          {"grad_accum", grad_accum},
          {"max_length", max_length},
          {"seed", seed},
          {"gradient_checkpointing", gradient_checkpointing},
          {"tf32", tf32},
          {"dtype", dtype},
          {"device", device},
          {"save_every", save_every},
          {"resume", resume},
          {"peft_adapter", peft_adapter},
          {"save_final", save_final}};
  // Only the specs the strategy uses: the options of every other strategy (and so their
  // content-addressed checkpoints and resume keys) stay as they were.
  try {
    const Strategy& s = find_strategy(strategy);
    const nlohmann::json specs = injection_meta(s, lora, adapter, prefix);
    for (const char* k : {"adapter", "prefix"})
      if (specs.contains(k)) j[k] = specs[k];
  } catch (const std::invalid_argument&) {  // validated where the strategy is resolved
  }
  return j;
}

nlohmann::json train(const TrainOptions& options, Dist& dist, const StepCallback& on_step, model::LlavaModel* trained) {
  Trainer t(options, dist, on_step);
  nlohmann::json j = t.run();
  if (trained != nullptr) *trained = t.model();
  return j;
}

}  // namespace lnb::training
