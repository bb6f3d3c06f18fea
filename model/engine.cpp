// Generator::generate, the evaluation engine (see generate.h): shared prefixes from a
// PrefixStore, one suffix prefill per batch, and the static-shape decode step (eager, or
// replayed as a CUDA graph). generate.cpp keeps the slow reference it is tested against.
#include <algorithm>
#include <stdexcept>
#include <chrono>
#include <iostream>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "model/generate.h"
#include "model/prefix_cache.h"
#include "model/step_graph.h"

namespace lnb::model {

// Everything a decode step reads and writes, at fixed addresses (a captured graph
// replays on them). rows x capacity may exceed the batch (graph buckets): extra rows are
// masked rows whose tokens nobody reads.
struct DecodeBuffers {
  DecodeBuffers(const LlamaConfig& c, int64_t n_rows, int64_t cap, const at::TensorOptions& w, bool logits_kept)
      : rows(n_rows), capacity(cap), keep_logits(logits_kept), cache(c, n_rows, cap, w) {
    const auto lopts = w.dtype(at::kLong);
    tokens = at::zeros({rows}, lopts);                           // (R) in: this step's token, out: the next
    positions = at::zeros({rows, 1}, lopts);                     // (R, 1) RoPE position of this step's token
    slot = at::zeros({1}, lopts);                                // (1) cache slot this step writes
    logits = at::zeros({rows, c.vocab_size}, w.dtype(at::kFloat));  // (R, V) when kept
    uniforms = at::full({rows}, 0.5, w.dtype(at::kDouble));      // (R) this step's draws when sampling
  }
  int64_t rows, capacity;
  bool keep_logits;
  KvCache cache;
  at::Tensor tokens, positions, slot, logits, uniforms;
  StepGraph graph;
  // How the step chooses its token: argmax in a captured graph; sampling and blocked ids
  // (EOS before min_new_tokens) run eagerly.
  SamplingOptions sampling;
  std::vector<int64_t> blocked;
};

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t next_pow2(int64_t x) {
  int64_t p = 1;
  while (p < x) p *= 2;
  return p;
}
constexpr int64_t kCapacityBucket = 256;
constexpr size_t kMaxGraphs = 4;  // buffers (each a whole KV cache) kept with their graphs

// Copies a node chain's segments into row `row` of `cache`, the chain's first position at
// slot `offset`.
void copy_chain(const PrefixStore& store, const std::vector<int64_t>& chain, KvCache& cache, int64_t row, int64_t offset) {
  const PrefixPlan& plan = store.plan();
  for (int64_t n : chain) {
    const PrefixStore::Segment& seg = store.segment(n);
    const int64_t len = plan.segment_positions(n);
    const int64_t start = offset + plan.nodes[static_cast<size_t>(n)].n_positions - len;
    for (size_t l = 0; l < cache.k.size(); ++l) {
      cache.k[l].narrow(0, row, 1).narrow(2, start, len).copy_(seg.k[l]);  // (1, Hkv, len, Dh)
      cache.v[l].narrow(0, row, 1).narrow(2, start, len).copy_(seg.v[l]);
    }
  }
}

}  // namespace

Generator::Generator(LlavaModel model, const Tokenizer& tokenizer, int64_t image_token_id, int64_t pad_id)
    : model_(std::move(model)), tokenizer_(tokenizer), image_token_id_(image_token_id), pad_id_(pad_id) {}
Generator::~Generator() = default;

bool Generator::uses_cuda_graphs() const {
  return cuda_graphs_ && StepGraph::available() && model_->llm->embed_tokens->weight.device().is_cuda();
}

const RotaryTable& Generator::rotary(int64_t positions) {
  if (!rotary_ || rotary_->capacity() < positions) {
    const auto w = model_->llm->embed_tokens->weight.options();
    const int64_t cap = std::max<int64_t>(round_up(positions, kCapacityBucket), rotary_ ? 2 * rotary_->capacity() : 0);
    rotary_ = std::make_unique<RotaryTable>(cap, model_->config.text.head_dim(), model_->config.text.rope_theta, w);
    pool_.clear();  // captured graphs read the old table
  }
  return *rotary_;
}

void Generator::decode_step(DecodeBuffers& d, int64_t attend) {
  const int64_t R = d.rows;
  d.cache.valid.index_fill_(1, d.slot, true);
  const at::Tensor embeds = model_->llm->embed_tokens->forward(d.tokens.view({R, 1}));  // (R, 1, D)
  const Rotary rot = rotary_->lookup(d.positions);                                      // (R, 1, Dh)
  const at::Tensor mask = d.cache.valid.narrow(1, 0, attend).view({R, 1, 1, attend});    // (R, 1, 1, A)
  const at::Tensor h = model_->llm->forward_step(embeds, rot, mask, d.cache, d.slot, attend);
  const at::Tensor logits = model_->head(h).squeeze(1);                                 // (R, V)
  if (d.keep_logits) d.logits.copy_(logits);
  d.tokens.copy_(d.sampling.greedy() && d.blocked.empty() ? logits.argmax(-1) : choose_tokens(logits, d.sampling, d.uniforms, d.blocked));
  d.positions.add_(1);
  d.slot.add_(1);
}

DecodeBuffers& Generator::buffers(int64_t rows, int64_t capacity, bool keep_logits) {
  const auto w = model_->llm->embed_tokens->weight.options();
  if (!uses_cuda_graphs()) {
    // The last batch's buffers when they fit: slots past a row's valid ones hold finite
    // leftovers that the mask gives weight exactly 0, so reuse changes no bit (and saves
    // zeroing and faulting in a whole cache per batch).
    if (pool_.size() == 1 && pool_[0]->rows == rows && pool_[0]->capacity >= capacity &&
        pool_[0]->keep_logits == keep_logits && !pool_[0]->graph.captured())
      return *pool_[0];
    pool_.clear();
    pool_.push_back(std::make_unique<DecodeBuffers>(model_->config.text, rows, capacity, w, keep_logits));
    return *pool_.back();
  }
  const int64_t R = next_pow2(rows), C = round_up(capacity, kCapacityBucket);
  rotary(C);  // before capture: the graph holds the table's address
  for (auto& d : pool_)
    if (d->rows == R && d->capacity == C) return *d;
  if (pool_.size() >= kMaxGraphs) pool_.erase(pool_.begin());
  pool_.push_back(std::make_unique<DecodeBuffers>(model_->config.text, R, C, w, /*keep_logits=*/true));
  DecodeBuffers& d = *pool_.back();
  try {
    d.graph.capture([this, &d] { decode_step(d, d.capacity); });  // writes garbage state; reset by the caller
  } catch (const std::exception& e) {  // an op that cannot be captured: decode eagerly from now on
    std::cerr << "lnbench: CUDA graph capture of the decode step failed, decoding without graphs: " << e.what() << "\n";
    cuda_graphs_ = false;
    return buffers(rows, capacity, keep_logits);
  }
  return d;
}

void Generator::ensure_prefix(PrefixStore& store, int64_t node, const GenerationRequest& r, GenerationStats* stats) {
  const PrefixPlan& plan = store.plan();
  const auto& cfg = model_->config;
  const int64_t Np = cfg.has_vision ? cfg.vision.n_patches() : 0;
  const auto w = model_->llm->embed_tokens->weight.options();
  for (int64_t n : store.chain(node)) {
    if (store.ready(n)) continue;
    const PrefixPlan::Node& pn = plan.nodes[static_cast<size_t>(n)];
    const PrefixPlan::Node* parent = pn.parent < 0 ? nullptr : &plan.nodes[static_cast<size_t>(pn.parent)];
    const int64_t p0 = parent ? parent->n_positions : 0, s0 = parent ? parent->n_symbols : 0, i0 = parent ? parent->n_images : 0;
    TORCH_CHECK(static_cast<int64_t>(r.prompt.size()) > pn.n_symbols, "prefix node ", n, " is longer than the prompt");
    const std::vector<int64_t> part(r.prompt.begin() + s0, r.prompt.begin() + pn.n_symbols);
    const ExpandedPrompt e = expand_image_slots(part, Np, image_token_id_, pad_id_);
    // Plans key images by their slot; an already-expanded run of image tokens carries no
    // image identity, so it must not be part of a shared prefix.
    TORCH_CHECK(e.n_images == std::count(part.begin(), part.end(), kImageSlot),
                "prefix sharing needs one image slot per image, not expanded image tokens");
    const int64_t T = static_cast<int64_t>(e.ids.size());
    TORCH_CHECK(T == pn.n_positions - p0, "prefix node ", n, ": ", T, " positions, the plan says ", pn.n_positions - p0);
    rotary(pn.n_positions);
    KvCache c(cfg.text, 1, pn.n_positions, w);
    c.valid.fill_(true);
    if (parent) copy_chain(store, store.chain(pn.parent), c, 0, 0);
    c.length = p0;
    const auto lopts = at::TensorOptions().dtype(at::kLong);
    const at::Tensor ids = at::tensor(e.ids, lopts).view({1, T}).to(w.device());
    const at::Tensor pos = at::arange(p0, pn.n_positions, lopts).view({1, T}).to(w.device());
    at::Tensor image_mask, image_rows;
    if (e.n_images > 0) {
      TORCH_CHECK(r.image_features.defined() && r.image_features.size(0) >= i0 + e.n_images, "prefix node ", n,
                  " covers images the request has no features for");
      image_mask = at::tensor(std::vector<uint8_t>(e.is_image.begin(), e.is_image.end()), at::kByte).view({1, T}).to(at::kBool).to(w.device());
      const at::Tensor f = r.image_features.narrow(0, i0, e.n_images).to(w.device(), w.dtype());  // (n, Np, Dv)
      image_rows = model_->project(f).reshape({-1, cfg.text.hidden_size});                        // (n * Np, D)
    }
    const Rotary rot = rotary_->lookup(pos);
    model_->llm->forward(model_->embed(ids, image_mask, image_rows), {pos, {}}, &c, &rot);
    PrefixStore::Segment seg;
    for (size_t l = 0; l < c.k.size(); ++l) {
      seg.k.push_back(c.k[l].narrow(2, p0, T).clone());  // (1, Hkv, T, Dh)
      seg.v.push_back(c.v[l].narrow(2, p0, T).clone());
    }
    seg.symbols.assign(r.prompt.begin(), r.prompt.begin() + pn.n_symbols);
    store.store(n, std::move(seg));
    store.counters().computed += T;
    if (stats) stats->prefix_computed += T, stats->prefill_tokens += T;
  }
}

std::vector<GenerationResult> Generator::generate(const std::vector<GenerationRequest>& batch, const GenerationOptions& opt,
                                                  GenerationStats* stats, PrefixStore* store) {
  torch::NoGradGuard no_grad;
  check_sampling(opt.sampling);
  if (opt.min_new_tokens < 0) throw std::invalid_argument("min_new_tokens: expected >= 0, got " + std::to_string(opt.min_new_tokens));
  const int64_t B = static_cast<int64_t>(batch.size());
  std::vector<GenerationResult> results(batch.size());
  if (B == 0) return results;
  const auto& cfg = model_->config;
  const int64_t Np = cfg.has_vision ? cfg.vision.n_patches() : 0;
  const auto w = model_->llm->embed_tokens->weight.options();
  const auto dev = w.device();
  const auto t0 = std::chrono::steady_clock::now();

  // Each row: its prefix (node, positions) and its own suffix, image slots expanded.
  struct Row {
    int64_t node = -1, prefix = 0;
    ExpandedPrompt suffix;
  };
  std::vector<Row> rows(batch.size());
  std::vector<at::Tensor> features;  // suffix images, row-major
  int64_t P = 0, S = 0, reused = 0, own = 0;
  for (int64_t b = 0; b < B; ++b) {
    const GenerationRequest& r = batch[static_cast<size_t>(b)];
    Row& row = rows[static_cast<size_t>(b)];
    int64_t n_symbols = 0, n_images = 0;
    if (r.prefix_node >= 0) {
      TORCH_CHECK(store != nullptr, "a request names prefix node ", r.prefix_node, " but no prefix store was given");
      ensure_prefix(*store, r.prefix_node, r, stats);
      const PrefixPlan::Node& pn = store->plan().nodes[static_cast<size_t>(r.prefix_node)];
      const std::vector<int64_t>& sym = store->segment(r.prefix_node).symbols;
      TORCH_CHECK(r.prompt.size() > sym.size() && std::equal(sym.begin(), sym.end(), r.prompt.begin()),
                  "a request does not start with its prefix node ", r.prefix_node);
      row.node = r.prefix_node, row.prefix = pn.n_positions, n_symbols = pn.n_symbols, n_images = pn.n_images;
    }
    const std::vector<int64_t> rest(r.prompt.begin() + n_symbols, r.prompt.end());
    row.suffix = expand_image_slots(rest, Np, image_token_id_, pad_id_);
    const int64_t given = r.image_features.defined() ? r.image_features.size(0) : 0;
    TORCH_CHECK(n_images + row.suffix.n_images == given, "request has ", n_images + row.suffix.n_images,
                " image slots but ", given, " images' features");
    TORCH_CHECK(!row.suffix.ids.empty(), "empty prompt");
    if (row.suffix.n_images > 0) features.push_back(r.image_features.narrow(0, n_images, row.suffix.n_images));
    results[static_cast<size_t>(b)].prompt_tokens = row.prefix + static_cast<int64_t>(row.suffix.ids.size());
    P = std::max(P, row.prefix);
    S = std::max<int64_t>(S, static_cast<int64_t>(row.suffix.ids.size()));
    reused += row.prefix;
    own += static_cast<int64_t>(row.suffix.ids.size());
  }
  const int64_t L = P + S, capacity = L + opt.max_new_tokens;
  rotary(capacity);
  DecodeBuffers& d = buffers(B, capacity, opt.keep_logits);
  d.cache.valid.fill_(false);
  d.tokens.fill_(pad_id_);
  KvCache live = d.cache.first_rows(B);  // views: the prefill writes into d.cache

  // Slots: [0, P) prefixes right-aligned, [P, L) suffixes left-padded, then generated.
  std::vector<int64_t> ids(B * S, pad_id_), positions(B * S, 0);
  std::vector<uint8_t> valid(B * L, 0), image(B * S, 0);
  for (int64_t b = 0; b < B; ++b) {
    const Row& row = rows[static_cast<size_t>(b)];
    const int64_t n = static_cast<int64_t>(row.suffix.ids.size()), off = S - n;
    for (int64_t s = P - row.prefix; s < P; ++s) valid[b * L + s] = 1;
    for (int64_t t = 0; t < n; ++t) {
      ids[b * S + off + t] = row.suffix.ids[t];
      positions[b * S + off + t] = row.prefix + t;
      image[b * S + off + t] = row.suffix.is_image[t];
      valid[b * L + P + off + t] = 1;
    }
    if (row.node >= 0) copy_chain(*store, store->chain(row.node), live, b, P - row.prefix);
  }
  const auto lopts = at::TensorOptions().dtype(at::kLong);
  live.valid.narrow(1, 0, L).copy_(at::from_blob(valid.data(), {B, L}, at::kByte).to(at::kBool));
  const at::Tensor ids_t = at::from_blob(ids.data(), {B, S}, lopts).to(dev);
  const at::Tensor pos_t = at::from_blob(positions.data(), {B, S}, lopts).to(dev);
  const at::Tensor image_t = at::from_blob(image.data(), {B, S}, at::kByte).to(at::kBool).to(dev);
  at::Tensor image_rows;
  if (!features.empty()) {
    const at::Tensor f = at::cat(features, 0).to(dev, w.dtype());                       // (n_images, Np, Dv)
    image_rows = model_->project(f).reshape({-1, cfg.text.hidden_size});             // (n_images * Np, D)
  }
  live.length = P;
  const at::Tensor embeds = model_->embed(ids_t, image_t, image_rows);                 // (B, S, D)
  const Rotary rot = rotary_->lookup(pos_t);
  const at::Tensor hidden = model_->llm->forward(embeds, {pos_t, {}}, &live, &rot);  // (B, S, D)
  at::Tensor first_logits;                                                             // (B, V)
  if (opt.keep_logits) {
    const at::Tensor all = model_->head(hidden);                                       // (B, S, V)
    for (int64_t b = 0; b < B; ++b) {
      const int64_t n = static_cast<int64_t>(rows[static_cast<size_t>(b)].suffix.ids.size());
      results[static_cast<size_t>(b)].prompt_logits = all[b].narrow(0, S - n, n).cpu();
    }
    first_logits = all.select(1, S - 1);
  } else {
    first_logits = model_->head(hidden.narrow(1, S - 1, 1)).squeeze(1);
  }
  std::vector<int64_t> eos = opt.eos_ids;
  if (eos.empty() && tokenizer_.eos_id() >= 0) eos.push_back(tokenizer_.eos_id());
  // Each row's draw of a step from its own key (rows past B: buffer padding, never read).
  std::vector<double> u(static_cast<size_t>(d.rows), 0.5);
  auto set_uniforms = [&](int64_t step) {
    if (opt.sampling.greedy()) return;
    for (int64_t b = 0; b < B; ++b)
      u[static_cast<size_t>(b)] = sample_uniform(opt.sampling.seed, batch[static_cast<size_t>(b)].sample_key, step);
    d.uniforms.copy_(at::from_blob(u.data(), {d.rows}, at::kDouble));
  };
  d.sampling = opt.sampling;
  set_uniforms(0);
  d.blocked = opt.min_new_tokens > 0 ? eos : std::vector<int64_t>{};
  d.tokens.narrow(0, 0, B).copy_(d.sampling.greedy() && d.blocked.empty()
                                     ? first_logits.argmax(-1)
                                     : choose_tokens(first_logits, d.sampling, d.uniforms.narrow(0, 0, B), d.blocked));
  if (stats) {
    stats->prefill_tokens += B * S;
    stats->prefix_reused += reused;
    stats->padding += B * S - own;
    stats->prefill_seconds += seconds_since(t0);
  }
  if (store) store->counters().reused += reused;

  // Static decode: every row advances every step; a finished row is a masked row.
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<int64_t> start_pos(static_cast<size_t>(d.rows), 0);
  for (int64_t b = 0; b < B; ++b) start_pos[static_cast<size_t>(b)] = results[static_cast<size_t>(b)].prompt_tokens;
  d.positions.copy_(at::from_blob(start_pos.data(), {d.rows, 1}, lopts));
  d.slot.fill_(L);
  std::vector<std::vector<at::Tensor>> step_logits(opt.keep_logits ? B : 0);
  std::vector<bool> finished(batch.size(), false);
  int64_t n_active = B, decoded = 0;
  // The captured step chooses by argmax: sampled or EOS-held steps run eagerly.
  const bool graph = d.graph.captured() && opt.sampling.greedy() && opt.min_new_tokens == 0;
  for (int64_t step = 0; step < opt.max_new_tokens && n_active > 0; ++step) {
    const at::Tensor next = d.tokens.narrow(0, 0, B).to(at::kCPU);  // the step's one device-to-host transfer
    const int64_t* nx = next.data_ptr<int64_t>();
    at::Tensor kept;
    if (opt.keep_logits) kept = (step == 0 ? first_logits : d.logits.narrow(0, 0, B)).to(at::kCPU);
    for (int64_t b = 0; b < B; ++b) {
      if (finished[static_cast<size_t>(b)]) continue;
      GenerationResult& r = results[static_cast<size_t>(b)];
      if (opt.keep_logits) step_logits[static_cast<size_t>(b)].push_back(kept[b].clone());
      const int64_t tok = nx[b];
      const bool done = detail::take_token(r, tok, eos, opt, tokenizer_);
      if (r.stop_reason != "eos") ++decoded;
      if (done) finished[static_cast<size_t>(b)] = true, --n_active;
    }
    if (n_active == 0 || step + 1 >= opt.max_new_tokens) break;
    if (graph) {
      d.graph.replay();
      if (stats) ++stats->graph_replays;
    } else {
      set_uniforms(step + 1);
      d.blocked = step + 1 < opt.min_new_tokens ? eos : std::vector<int64_t>{};
      decode_step(d, L + step + 1);
    }
    if (stats) ++stats->decode_steps;
  }
  for (int64_t b = 0; b < B; ++b) {
    GenerationResult& r = results[static_cast<size_t>(b)];
    detail::finish(r, opt, tokenizer_);
    if (opt.keep_logits && !step_logits[static_cast<size_t>(b)].empty()) r.step_logits = at::stack(step_logits[static_cast<size_t>(b)]);
  }
  if (stats) {
    stats->decode_tokens += decoded;
    stats->decode_seconds += seconds_since(t1);
  }
  return results;
}

}  // namespace lnb::model
