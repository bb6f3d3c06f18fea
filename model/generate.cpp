// See generate.h: the shared stop logic and the slow reference decoder (the engine,
// Generator::generate, is model/engine.cpp).
#include "model/generate.h"

#include <algorithm>
#include <stdexcept>
#include <chrono>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace lnb::model {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

namespace {
std::string strip_text(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string::npos) return {};
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}
}  // namespace

namespace detail {

bool take_token(GenerationResult& r, int64_t tok, const std::vector<int64_t>& eos, const GenerationOptions& opt,
                const Tokenizer& tokenizer) {
  if (opt.stop_at_eos && std::find(eos.begin(), eos.end(), tok) != eos.end()) {
    r.stop_reason = "eos";
    return true;
  }
  r.tokens.push_back(tok);
  if (!opt.stop.empty()) {
    const std::string text = tokenizer.decode(r.tokens);
    for (const std::string& s : opt.stop)
      if (!s.empty() && text.find(s) != std::string::npos) {
        r.stop_reason = "stop";
        return true;
      }
  }
  if (static_cast<int64_t>(r.tokens.size()) >= opt.max_new_tokens) {
    r.stop_reason = "length";
    return true;
  }
  return false;
}

void finish(GenerationResult& r, const GenerationOptions& opt, const Tokenizer& tokenizer) {
  if (r.stop_reason.empty()) r.stop_reason = "length";
  std::string text = tokenizer.decode(r.tokens);
  if (r.stop_reason == "stop")
    for (const std::string& s : opt.stop)
      if (const size_t at = text.find(s); !s.empty() && at != std::string::npos) text = text.substr(0, at);
  r.text = strip_text(text);
}

}  // namespace detail

ExpandedPrompt expand_image_slots(const std::vector<int64_t>& prompt, int64_t n_patches, int64_t image_token_id,
                                  int64_t lookup_id) {
  ExpandedPrompt e;
  int64_t run = 0;  // length of the current run of already-expanded image tokens
  for (int64_t id : prompt) {
    if (id == kImageSlot) {
      for (int64_t i = 0; i < n_patches; ++i) {
        e.ids.push_back(image_token_id >= 0 ? image_token_id : lookup_id);
        e.is_image.push_back(1);
      }
      ++e.n_images;
      continue;
    }
    const bool image = image_token_id >= 0 && id == image_token_id;
    e.ids.push_back(id);
    e.is_image.push_back(image ? 1 : 0);
    if (image && ++run == n_patches) ++e.n_images, run = 0;
  }
  TORCH_CHECK(run == 0, "prompt holds a run of image tokens that is not a multiple of ", n_patches);
  return e;
}


std::vector<GenerationResult> Generator::generate_reference(const std::vector<GenerationRequest>& batch,
                                                            const GenerationOptions& opt, GenerationStats* stats) {
  torch::NoGradGuard no_grad;
  check_sampling(opt.sampling);
  if (opt.min_new_tokens < 0) throw std::invalid_argument("min_new_tokens: expected >= 0, got " + std::to_string(opt.min_new_tokens));
  const int64_t B = static_cast<int64_t>(batch.size());
  std::vector<GenerationResult> results(batch.size());
  if (B == 0) return results;
  const auto& cfg = model_->config;
  const int64_t Np = cfg.has_vision ? cfg.vision.n_patches() : 0;
  const auto wopts = model_->llm->embed_tokens->weight.options();
  const auto dev = wopts.device();
  const auto t0 = std::chrono::steady_clock::now();

  // Expand image slots, left-pad to L.
  std::vector<ExpandedPrompt> rows;
  std::vector<at::Tensor> features;
  int64_t L = 0;
  for (const auto& r : batch) {
    rows.push_back(expand_image_slots(r.prompt, Np, image_token_id_, pad_id_));
    const int64_t given = r.image_features.defined() ? r.image_features.size(0) : 0;
    TORCH_CHECK(rows.back().n_images == given, "request has ", rows.back().n_images, " image slots but ", given,
                " images' features");
    TORCH_CHECK(!rows.back().ids.empty(), "empty prompt");
    if (given > 0) features.push_back(r.image_features);
    L = std::max<int64_t>(L, static_cast<int64_t>(rows.back().ids.size()));
  }
  const int64_t capacity = L + opt.max_new_tokens;
  std::vector<int64_t> ids(B * L, pad_id_), positions(B * L, 0);
  std::vector<uint8_t> valid(B * capacity, 0), image(B * L, 0);
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = rows[b];
    const int64_t n = static_cast<int64_t>(e.ids.size()), off = L - n;
    results[b].prompt_tokens = n;
    for (int64_t t = 0; t < n; ++t) {
      ids[b * L + off + t] = e.ids[t];
      positions[b * L + off + t] = t;
      valid[b * capacity + off + t] = 1;
      image[b * L + off + t] = e.is_image[t];
    }
  }
  auto lopts = at::TensorOptions().dtype(at::kLong);
  const at::Tensor ids_t = at::from_blob(ids.data(), {B, L}, lopts).to(dev);
  const at::Tensor pos_t = at::from_blob(positions.data(), {B, L}, lopts).to(dev);
  const at::Tensor image_t = at::from_blob(image.data(), {B, L}, at::kByte).to(at::kBool).to(dev);
  at::Tensor image_rows;
  if (!features.empty()) {
    const at::Tensor f = at::cat(features, 0).to(dev, wopts.dtype());                  // (n_images, Np, Dv)
    image_rows = model_->project(f).reshape({-1, cfg.text.hidden_size});             // (n_images * Np, D)
  }
  KvCache cache(cfg.text, B, capacity, wopts);
  cache.valid.copy_(at::from_blob(valid.data(), {B, capacity}, at::kByte).to(at::kBool));

  const at::Tensor embeds = model_->embed(ids_t, image_t, image_rows);                 // (B, L, D)
  const at::Tensor hidden = model_->llm->forward(embeds, {pos_t, {}}, &cache);         // (B, L, D)
  at::Tensor logits;                                                                   // (B', V)
  if (opt.keep_logits) {
    const at::Tensor all = model_->head(hidden);                                       // (B, L, V)
    for (int64_t b = 0; b < B; ++b) results[b].prompt_logits = all[b].narrow(0, L - results[b].prompt_tokens, results[b].prompt_tokens).cpu();
    logits = all.select(1, L - 1);
  } else {
    logits = model_->head(hidden.narrow(1, L - 1, 1)).squeeze(1);
  }
  if (stats) {
    stats->prefill_tokens += B * L;
    stats->prefill_seconds += seconds_since(t0);
  }

  const auto t1 = std::chrono::steady_clock::now();
  std::vector<int64_t> eos = opt.eos_ids;
  if (eos.empty() && tokenizer_.eos_id() >= 0) eos.push_back(tokenizer_.eos_id());
  std::vector<int64_t> active(B);  // active[i] = original row of batch row i
  for (int64_t b = 0; b < B; ++b) active[b] = b;
  std::vector<int64_t> next_pos(B);
  for (int64_t b = 0; b < B; ++b) next_pos[b] = results[b].prompt_tokens;
  std::vector<std::vector<at::Tensor>> step_logits(opt.keep_logits ? B : 0);
  int64_t decoded = 0;
  for (int64_t step = 0; step < opt.max_new_tokens && !active.empty(); ++step) {
    std::vector<double> u;
    for (int64_t b : active) u.push_back(sample_uniform(opt.sampling.seed, batch[static_cast<size_t>(b)].sample_key, step));
    const at::Tensor next =
        choose_tokens(logits, opt.sampling, at::tensor(u, at::kDouble), step < opt.min_new_tokens ? eos : std::vector<int64_t>{})
            .cpu();  // (B')
    const int64_t* nx = next.data_ptr<int64_t>();
    std::vector<int64_t> keep_rows, keep_ids, keep_pos;
    for (size_t i = 0; i < active.size(); ++i) {
      GenerationResult& r = results[active[i]];
      if (opt.keep_logits) step_logits[active[i]].push_back(logits[static_cast<int64_t>(i)].cpu());
      const int64_t tok = nx[i];
      const bool done = detail::take_token(r, tok, eos, opt, tokenizer_);
      if (r.stop_reason != "eos") ++decoded;
      if (done) continue;
      keep_rows.push_back(static_cast<int64_t>(i));
      keep_ids.push_back(tok);
      keep_pos.push_back(next_pos[active[i]]++);
    }
    if (keep_rows.empty()) break;
    std::vector<int64_t> still;
    for (int64_t i : keep_rows) still.push_back(active[i]);
    if (keep_rows.size() != active.size())
      cache.select_rows(at::from_blob(keep_rows.data(), {static_cast<int64_t>(keep_rows.size())}, lopts).to(dev));
    active = std::move(still);
    const int64_t Bn = static_cast<int64_t>(active.size());
    cache.valid.select(1, cache.length).fill_(true);
    const at::Tensor step_ids = at::from_blob(keep_ids.data(), {Bn, 1}, lopts).to(dev);
    const at::Tensor step_pos = at::from_blob(keep_pos.data(), {Bn, 1}, lopts).to(dev);
    const at::Tensor h = model_->llm->forward(model_->embed(step_ids, {}, {}), {step_pos, {}}, &cache);  // (B', 1, D)
    logits = model_->head(h).squeeze(1);                                                              // (B', V)
  }
  for (int64_t b = 0; b < B; ++b) {
    GenerationResult& r = results[b];
    detail::finish(r, opt, tokenizer_);
    if (opt.keep_logits && !step_logits[b].empty()) r.step_logits = at::stack(step_logits[b]);
  }
  if (stats) {
    stats->decode_tokens += decoded;
    stats->decode_seconds += seconds_since(t1);
  }
  return results;
}

}  // namespace lnb::model
