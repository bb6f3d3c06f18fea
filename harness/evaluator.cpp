#include "harness/evaluator.h"

#include "model/fingerprint.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "common/errors.h"
#include "common/json_io.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "model/chat_template.h"
#include "model/generate.h"
#include "model/image_preprocess.h"
#include "model/prefix_cache.h"
#include "model/safetensors.h"
#include "training/checkpoint.h"
#include "training/memory.h"

namespace lnb::harness {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One answered request as appended during the run (scored later by rank 0).
struct Answered {
  std::string prompt, answer;
};

// Reads the answers in a samples file; a torn last line (a kill mid-write) is ignored,
// and `truncate_torn` cuts it off so the next append starts on a fresh line.
void read_answers(const fs::path& file, std::map<std::string, Answered>& out, bool truncate_torn) {
  if (!fs::exists(file)) return;
  const std::string text = common::read_file(file);
  size_t pos = 0, good_end = 0;
  long line = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn: no newline yet
    ++line;
    const json j = common::parse_json(std::string_view(text).substr(pos, nl - pos), file.string(), line);
    for (const char* field : {"id", "answer"})
      if (!j.is_object() || !j.contains(field) || !j[field].is_string())
        throw common::InputError({file.string(), line, field, "a samples record {id, prompt, answer} with a string here",
                                  j.is_object() && j.contains(field) ? common::json_excerpt(j[field]) : "none",
                                  "a damaged samples file: move it aside and the task is evaluated again"});
    const std::string prompt = j.contains("prompt") && j["prompt"].is_string() ? j["prompt"].get<std::string>() : "";
    out[j["id"].get<std::string>()] = {prompt, j["answer"].get<std::string>()};
    pos = nl + 1;
    good_end = pos;
  }
  if (truncate_torn && good_end < text.size()) fs::resize_file(file, good_end);
}

class AppendFile {
 public:
  explicit AppendFile(const fs::path& p) : path_(p) {
    fd_ = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) common::throw_errno(p.string(), "cannot open for appending", errno);
  }
  ~AppendFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append_synced(const std::string& line) {
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) common::throw_errno(path_.string(), "write failed", errno);
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd_) != 0) common::throw_errno(path_.string(), "fsync failed", errno);
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

fs::path rank_file(const fs::path& dir, int rank) {
  return rank == 0 ? dir / "samples.jsonl" : dir / ("samples.rank" + std::to_string(rank) + ".jsonl");
}

// Every other rank's samples file, from this world size or an earlier one.
std::vector<fs::path> other_rank_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("samples.rank", 0) == 0 && n.size() > 18 && n.compare(n.size() - 6, 6, ".jsonl") == 0) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Requests in image-group order (first appearance), then cut into batches of equal
// generation settings: the fixed batch plan every run of this task shares.
std::vector<std::vector<size_t>> plan_batches(const std::vector<tasks::Request>& reqs, int64_t batch_size) {
  std::map<std::string, size_t> first;
  for (size_t i = 0; i < reqs.size(); ++i) first.emplace(reqs[i].group.empty() ? reqs[i].id : reqs[i].group, i);
  std::vector<size_t> order(reqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto group_rank = [&](size_t i) { return first.at(reqs[i].group.empty() ? reqs[i].id : reqs[i].group); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return group_rank(a) < group_rank(b); });
  std::vector<std::vector<size_t>> batches;
  for (size_t i : order) {
    const bool fits = !batches.empty() && static_cast<int64_t>(batches.back().size()) < batch_size &&
                      reqs[batches.back().front()].max_new_tokens == reqs[i].max_new_tokens &&
                      reqs[batches.back().front()].stop == reqs[i].stop;
    if (!fits) batches.emplace_back();
    batches.back().push_back(i);
  }
  return batches;
}

std::string raw_bytes(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes()));
}

}  // namespace

std::string vision_key(const model::LoadedModel& m) {
  common::Sha256 h;
  h.update("lnbench.vision_features/1\n");
  for (const auto& item : m.model->named_parameters()) {
    if (item.key().rfind("vision_model.", 0) != 0) continue;
    h.update(item.key() + '\0' + std::string(c10::toString(item.value().scalar_type())) + '\0');
    h.update(raw_bytes(item.value()));
  }
  const model::ImageProcessorConfig& ip = m.image;
  std::ostringstream o;
  o.precision(17);
  o << "layer " << m.config.vision.feature_layer << " edge " << ip.shortest_edge << " crop " << ip.crop << " rescale "
    << ip.rescale << " mean " << ip.mean[0] << ' ' << ip.mean[1] << ' ' << ip.mean[2] << " std " << ip.std[0] << ' '
    << ip.std[1] << ' ' << ip.std[2] << " pad " << ip.pad_to_square;
  const at::Tensor p = m.model->parameters().front();
  o << " dtype " << c10::toString(p.scalar_type()) << " device " << c10::DeviceTypeName(p.device().type());
  h.update(o.str());
  return h.hex_digest();
}

fs::path default_feature_cache() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "lnbench" / "features";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "lnbench" / "features";
  return fs::temp_directory_path() / "lnbench-features";
}

std::string answers_identity(const fs::path& model_dir, const fs::path& checkpoint) {
  const std::string base = model::model_fingerprint(model_dir);  // memoised there
  if (checkpoint.empty()) return base + " base";
  // Every file that shapes the answers (a PEFT config's rank, alpha and rsLoRA too).
  const training::CheckpointKind kind = training::checkpoint_kind(checkpoint);
  const bool own = kind == training::CheckpointKind::kLnbench || kind == training::CheckpointKind::kTensorFile;
  std::string id = base + " " + (own ? "delta" : training::checkpoint_kind_name(kind));  // earlier stores' ids kept
  for (const fs::path& f : training::checkpoint_files(checkpoint)) id += " " + common::sha256_file(f).sha256;
  return id;
}

Evaluator::Evaluator(model::LoadedModel& m, training::Dist& dist, EvalSettings settings)
    : m_(m), dist_(dist), s_(std::move(settings)), cache_(s_.feature_cache, m.config.has_vision ? vision_key(m) : "none") {}

namespace {

// Moves everything in `dir` (but earlier stale-* folders) into a new dir/stale-<n>/.
void move_aside(const fs::path& dir) {
  int n = 1;
  while (fs::exists(dir / ("stale-" + std::to_string(n)))) ++n;
  const fs::path stale = dir / ("stale-" + std::to_string(n));
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("stale-", 0) != 0) entries.push_back(e.path());
  if (entries.empty()) return;
  fs::create_directories(stale);
  for (const fs::path& p : entries) fs::rename(p, stale / p.filename());
  std::cerr << "lnbench: " << dir.string() << " was answered by another model, delta, template, batch size or task files; "
            << "moved to " << stale.string() << " and answering again\n";
}

// The GNU build ids (the linker's hash of the linked output, .note.gnu.build-id) of the
// executable and of the object holding `symbol`, read from the loaded program headers;
// "" for an object without one.
struct BuildIds {
  std::string exe, plugin;
};
BuildIds loaded_build_ids(const void* symbol) {
  struct Walk {
    uintptr_t symbol;
    BuildIds ids;
  } walk{reinterpret_cast<uintptr_t>(symbol), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        Walk& w = *static_cast<Walk*>(data);
        std::string id;
        bool holds_symbol = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && w.symbol >= start && w.symbol < start + ph.p_memsz) holds_symbol = true;
          if (ph.p_type != PT_NOTE || !id.empty()) continue;
          for (size_t at = 0; at + sizeof(ElfW(Nhdr)) <= ph.p_memsz;) {
            const auto* n = reinterpret_cast<const ElfW(Nhdr)*>(start + at);
            const auto* name = reinterpret_cast<const char*>(n + 1);
            const auto* desc = reinterpret_cast<const unsigned char*>(name + ((n->n_namesz + 3) & ~3u));
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
              static const char* hex = "0123456789abcdef";
              for (uint32_t k = 0; k < n->n_descsz; ++k) id += hex[desc[k] >> 4], id += hex[desc[k] & 15];
              break;
            }
            at += sizeof(ElfW(Nhdr)) + ((n->n_namesz + 3) & ~3u) + ((n->n_descsz + 3) & ~3u);
          }
        }
        if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') {
          if (w.ids.exe.empty()) w.ids.exe = id;  // the first nameless object is the executable
        }
        if (holds_symbol) w.ids.plugin = id;
        return 0;
      },
      &walk);
  return walk.ids;
}

// The code that made the answers: the GNU build ids of the lnbench executable and of the
// LibTorch plugin this evaluator lives in (both linked with --build-id, so any change to
// either changes them; reading them costs microseconds where hashing the 270 MB of
// files cost ~0.7 s per process). Without a build id, the file's sha256. Answers are
// reused across nights only from the same build, so a night after a code change decodes
// again and catches what the change did.
const std::string& build_identity() {
  static const std::string id = [] {
    const BuildIds ids = loaded_build_ids(reinterpret_cast<const void*>(&build_identity));
    std::error_code ec;
    Dl_info info{};
    const bool have_plugin = dladdr(reinterpret_cast<void*>(&build_identity), &info) != 0 && info.dli_fname;
    const fs::path files[2] = {fs::read_symlink("/proc/self/exe", ec), have_plugin ? fs::path(info.dli_fname) : fs::path()};
    const std::string* build_ids[2] = {&ids.exe, &ids.plugin};
    common::Sha256 h;
    for (int k = 0; k < 2; ++k) {
      if (!build_ids[k]->empty()) h.update("build-id " + *build_ids[k] + "\n");
      else if (!files[k].empty() && fs::is_regular_file(files[k])) h.update(common::read_file(files[k]));
      else h.update("?\n");
    }
    return h.hex_digest();
  }();
  return id;
}

// The first candidate answered under `key` and finished (metrics.json) is copied into
// `dir`: samples and submission files, eval.json marked with where it came from, and
// metrics.json last (its presence marks the task done, as for answers made here).
// The decoding settings in the answers' key ("" for plain greedy, so greedy keys are the
// keys of earlier builds) and in eval.json.
std::string decoding_key(const EvalSettings& s) {
  std::string k;
  if (!s.sampling.greedy()) {
    std::ostringstream o;
    o.precision(17);
    o << " sample temperature " << s.sampling.temperature << " top_k " << s.sampling.top_k << " top_p " << s.sampling.top_p
      << " seed " << s.sampling.seed;
    k += o.str();
  }
  if (s.min_new_tokens > 0) k += " min_new_tokens " + std::to_string(s.min_new_tokens);
  return k;
}

ordered_json decoding_json(const EvalSettings& s) {
  if (s.sampling.greedy()) return {{"mode", "greedy"}, {"min_new_tokens", s.min_new_tokens}};
  return {{"mode", "sample"},
          {"temperature", s.sampling.temperature},
          {"top_k", s.sampling.top_k},
          {"top_p", s.sampling.top_p},
          {"seed", s.sampling.seed},
          {"min_new_tokens", s.min_new_tokens},
          {"draws", "inverse CDF of the filtered softmax (temperature, top-k, top-p as HF) at SplitMix64(seed, "
                    "sha256(task/id), step): the same answer at any batch size, rank or resume"}};
}

// Returns the folder the answers came from, or nullopt when none could be reused.
std::optional<std::string> reuse_answers(const fs::path& dir, const std::string& key, const std::vector<fs::path>& candidates) {
  for (const fs::path& c : candidates) {
    if (!fs::exists(c / "metrics.json") || !fs::exists(c / "samples.jsonl") || !fs::exists(c / "answers.key")) continue;
    if (common::read_file(c / "answers.key") != key + "\n" || !fs::exists(c / "eval.json")) continue;
    const ordered_json made = common::read_json(c / "eval.json");
    if (!made.contains("build") || made["build"] != build_identity()) continue;  // another build made them
    common::write_file_atomic(dir / "samples.jsonl", common::read_file(c / "samples.jsonl"));
    if (fs::is_directory(c / "submission")) {
      fs::remove_all(dir / "submission");
      fs::copy(c / "submission", dir / "submission", fs::copy_options::recursive);
    }
    ordered_json e = made;
    if (!e.contains("reused_from")) e["reused_from"] = fs::absolute(c).lexically_normal().string();
    common::write_file_atomic(dir / "eval.json", e.dump(2) + "\n");
    common::write_file_atomic(dir / "metrics.json", common::read_file(c / "metrics.json"));
    return e["reused_from"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

ordered_json Evaluator::evaluate(const tasks::Task& task, const fs::path& dir, const EvalProgress& progress) {
  // Answers are reused only under the same identity; rank 0 decides before anyone reads.
  common::Sha256 kh;
  // The engine, prefix sharing and its budget change float rounding (not meaning): answers
  // decoded under other settings are not mixed in.
  kh.update("lnbench.answers/1\n" + s_.identity + "\n" + s_.template_name + "\n" + std::to_string(s_.batch_size) + "\n" +
            task.fingerprint() + "\nengine 2 prefix " +
            (s_.prefix_sharing ? "on budget " + std::to_string(s_.prefix_cache_mb) : std::string("off")) +
            (s_.fold_lora ? " lora folded" : "") + decoding_key(s_) + "\n");
  const std::string key = kh.hex_digest();
  const fs::path key_file = dir / "answers.key";
  std::optional<std::string> reused;  // rank 0's: where the answers were just copied from
  if (dist_.is_main()) {
    fs::create_directories(dir);
    const bool has_work = fs::exists(dir / "samples.jsonl") || fs::exists(dir / "metrics.json") || !other_rank_files(dir).empty();
    const bool same = fs::exists(key_file) && common::read_file(key_file) == key + "\n";
    if (has_work && !same) move_aside(dir);
    if (!same) common::write_file_atomic(key_file, key + "\n");
    if (!fs::exists(dir / "metrics.json") && s_.reuse_candidates) reused = reuse_answers(dir, key, s_.reuse_candidates(dir));
  }
  dist_.barrier();
  if (fs::exists(dir / "metrics.json")) {
    ordered_json done = {{"schema", "lnbench.eval/1"}, {"task", std::string(task.name())}, {"already_done", true}};
    if (reused) {
      done["reused_from"] = *reused;
    } else if (fs::exists(dir / "eval.json")) {  // finished before this call (a resumed night)
      const ordered_json e = common::read_json(dir / "eval.json");
      if (e.contains("reused_from")) done["reused_from"] = e["reused_from"];
    }
    return done;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t hits0 = cache_.hits(), disk0 = cache_.disk_hits(), miss0 = cache_.misses(), rejected0 = cache_.rejected();
  const c10::Device device = m_.model->parameters().begin()->device();
  training::reset_peak_memory(device);
  const std::vector<tasks::Request>& reqs = task.requests();
  const auto batches = plan_batches(reqs, s_.batch_size);
  const int64_t n_batches = static_cast<int64_t>(batches.size());
  const int rank = dist_.rank(), world = dist_.world_size();
  const int64_t first = n_batches * rank / world, last = n_batches * (rank + 1) / world;

  std::map<std::string, Answered> answered;
  read_answers(rank_file(dir, rank), answered, /*truncate_torn=*/true);
  const int64_t resumed = static_cast<int64_t>(answered.size());
  const model::ChatTemplate& tmpl = model::chat_template(s_.template_name);
  model::Generator gen(m_.model, *m_.tokenizer, m_.image_token_id, m_.pad_id);
  gen.set_cuda_graphs(s_.cuda_graphs == "on" || (s_.cuda_graphs == "auto" && device.is_cuda()));
  auto render = [&](const tasks::Request& r) {
    std::vector<model::ChatTurn> turns;
    for (const tasks::Turn& t : r.turns) turns.push_back({t.user, t.assistant});
    return model::render_chat(tmpl, turns);
  };
  // Every prompt rendered and tokenized once: the prefix plan needs them all.
  std::vector<std::string> prompts(reqs.size());
  std::vector<std::vector<int64_t>> ids(reqs.size());
  // Each request's sampling draws are its own (task/id), whatever batch or rank decodes it.
  std::vector<uint64_t> sample_keys(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) sample_keys[i] = model::sample_key(std::string(task.name()) + "/" + reqs[i].id);
  const auto& cfg = m_.config;
  const int64_t Np = cfg.has_vision ? cfg.vision.n_patches() : 0;
  std::vector<model::PrefixRequest> keys(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    prompts[i] = render(reqs[i]);
    ids[i] = m_.tokenizer->encode_with_image(prompts[i]);
    keys[i].prompt = ids[i];
    if (!reqs[i].image.empty()) keys[i].image_keys = {reqs[i].image.string()};
    keys[i].group = reqs[i].group;
  }
  model::PrefixPlan plan = model::plan_prefixes(keys, Np);
  for (size_t i = 0; i < reqs.size(); ++i)  // bad input: a clear error before any work
    if (plan.positions[i] + reqs[i].max_new_tokens > cfg.text.max_position_embeddings)
      throw std::invalid_argument(task.data_root().string() + ": request '" + reqs[i].id + "' needs " +
                                  std::to_string(plan.positions[i]) + " prompt positions + " +
                                  std::to_string(reqs[i].max_new_tokens) + " new tokens, more than the model's context of " +
                                  std::to_string(cfg.text.max_position_embeddings) + " (max_position_embeddings)");
  const int64_t n_nodes_planned = static_cast<int64_t>(plan.nodes.size());
  int64_t dropped = 0, planned_peak = 0;
  if (!s_.prefix_sharing) {
    plan.nodes.clear();
    std::fill(plan.node_of.begin(), plan.node_of.end(), -1);
  } else {
    const int64_t elem = static_cast<int64_t>(m_.model->llm->embed_tokens->weight.element_size());
    const int64_t per_position = cfg.text.n_layers * 2 * cfg.text.n_kv_heads * cfg.text.head_dim() * elem;
    planned_peak = model::fit_prefix_budget(plan, batches, per_position, s_.prefix_cache_mb << 20, &dropped);
    if (dropped > 0 && dist_.is_main())
      std::cerr << "lnbench: " << task.name() << ": shared prefixes would need more than eval.prefix_cache_mb = "
                << s_.prefix_cache_mb << " MiB; " << dropped << " of " << n_nodes_planned << " are computed per request instead\n";
  }
  model::PrefixStore store(plan);

  auto batch_features = [&](const std::vector<size_t>& batch) {
    std::vector<fs::path> images;
    for (size_t i : batch)
      if (!reqs[i].image.empty()) images.push_back(task.data_root() / reqs[i].image);
    const std::vector<at::Tensor> f = cache_.get_many(images, s_.vision_batch, [&](const std::vector<fs::path>& todo) {
      std::vector<at::Tensor> px;
      for (const fs::path& image : todo) px.push_back(model::preprocess_image(model::decode_image(image), m_.image));
      torch::NoGradGuard ng;
      const at::Tensor p = m_.model->parameters().front();
      return m_.model->vision_features(at::stack(px).to(p.device(), p.scalar_type()));  // (n, Np, Dv)
    });
    std::vector<at::Tensor> out(batch.size());
    for (size_t k = 0, j = 0; k < batch.size(); ++k)
      if (!reqs[batch[k]].image.empty()) out[k] = f[j++].to(device).unsqueeze(0);  // (1, Np, Dv)
    return out;
  };
  auto decode = [&](const std::vector<size_t>& batch, bool shared, model::GenerationStats* stats) {
    const std::vector<at::Tensor> f = batch_features(batch);
    std::vector<model::GenerationRequest> gr;
    for (size_t k = 0; k < batch.size(); ++k)
      gr.push_back({ids[batch[k]], f[k], shared ? plan.node_of[batch[k]] : -1, sample_keys[batch[k]]});
    model::GenerationOptions go;
    go.max_new_tokens = reqs[batch.front()].max_new_tokens;
    go.stop = reqs[batch.front()].stop;
    go.sampling = s_.sampling;
    go.min_new_tokens = s_.min_new_tokens;
    torch::NoGradGuard ng;
    return gen.generate(gr, go, stats, shared ? &store : nullptr);
  };

  // This rank's batches; a batch with any answer missing is decoded whole, so every
  // answer comes from the same batch composition.
  auto pending = [&](const std::vector<size_t>& batch) {
    return !std::all_of(batch.begin(), batch.end(), [&](size_t i) { return answered.count(reqs[i].id) > 0; });
  };
  int64_t mine = 0, done_now = 0, unshared_positions = 0, minimum_positions = 0;
  std::set<int64_t> nodes_used;
  for (int64_t b = first; b < last; ++b) {
    const auto& batch = batches[static_cast<size_t>(b)];
    mine += static_cast<int64_t>(batch.size());
    if (!pending(batch)) continue;
    int64_t longest = 0;
    for (size_t i : batch) {
      store.expect(i);
      longest = std::max(longest, plan.positions[i]);
      minimum_positions += plan.positions[i] - plan.prefix_positions(i);
      for (int64_t n = plan.node_of[i]; n >= 0; n = plan.nodes[static_cast<size_t>(n)].parent) nodes_used.insert(n);
    }
    unshared_positions += longest * static_cast<int64_t>(batch.size());  // what one padded prefill per batch computes
  }
  for (int64_t n : nodes_used) minimum_positions += plan.segment_positions(n);
  int64_t done = 0;
  for (int64_t b = first; b < last; ++b)
    for (size_t i : batches[static_cast<size_t>(b)]) done += answered.count(reqs[i].id) ? 1 : 0;
  model::GenerationStats stats;
  {
    AppendFile out(rank_file(dir, rank));
    for (int64_t b = first; b < last; ++b) {
      const auto& batch = batches[static_cast<size_t>(b)];
      if (!pending(batch)) continue;
      const auto results = decode(batch, true, &stats);
      for (size_t k = 0; k < batch.size(); ++k) {
        store.done(batch[k]);
        const tasks::Request& r = reqs[batch[k]];
        if (answered.count(r.id)) continue;
        out.append_synced(json({{"id", r.id}, {"prompt", prompts[batch[k]]}, {"answer", results[k].text}}).dump() + "\n");
        answered[r.id] = {prompts[batch[k]], results[k].text};
        ++done, ++done_now;
      }
      if (progress && dist_.is_main()) progress(done, mine, seconds_since(t0));
    }
  }
  const double answer_seconds = seconds_since(t0);
  const training::MemoryReading mem = training::read_memory(device);
  // Throughput and memory over all ranks.
  const std::vector<double> totals = dist_.sum_scalars(
      {static_cast<double>(done_now), static_cast<double>(stats.prefill_tokens), static_cast<double>(stats.decode_tokens),
       stats.prefill_seconds, stats.decode_seconds, static_cast<double>(mem.peak_bytes),
       static_cast<double>(stats.prefix_computed), static_cast<double>(stats.prefix_reused), static_cast<double>(stats.padding),
       static_cast<double>(unshared_positions), static_cast<double>(minimum_positions),
       static_cast<double>(stats.decode_steps), static_cast<double>(stats.graph_replays),
       static_cast<double>(store.counters().peak_bytes)});
  dist_.barrier();  // every rank's samples file is complete and synced
  ordered_json report = {{"schema", "lnbench.eval/1"}, {"task", std::string(task.name())}};
  if (!dist_.is_main()) return report;

  const std::vector<fs::path> others = other_rank_files(dir);
  for (const fs::path& f : others) read_answers(f, answered, false);
  std::vector<tasks::Answer> answers;
  answers.reserve(reqs.size());
  for (const tasks::Request& r : reqs) {
    const auto it = answered.find(r.id);
    if (it == answered.end()) throw std::runtime_error(dir.string() + ": request '" + r.id + "' has no answer after all ranks finished");
    answers.push_back({r.id, it->second.answer});
  }
  // Batch invariance: K requests spread over the task, re-decoded alone.
  ordered_json mismatches = ordered_json::array();
  const int64_t k = std::min<int64_t>(s_.batch_check, static_cast<int64_t>(reqs.size()));
  for (int64_t j = 0; j < k; ++j) {
    const size_t i = static_cast<size_t>(j * static_cast<int64_t>(reqs.size()) / k);
    const std::string single = decode({i}, false, nullptr)[0].text;  // batch 1, unshared: the slow twin
    if (single != answers[i].text)
      mismatches.push_back({{"id", reqs[i].id}, {"batched", answers[i].text}, {"batch_1", single}});
  }
  const tasks::TaskScores scores = task.score(answers);
  std::string samples;
  for (size_t i = 0; i < reqs.size(); ++i)
    samples += tasks::sample_record(reqs[i], task.data_root(), answered.at(reqs[i].id).prompt, answers[i].text, scores.samples[i]).dump() + "\n";
  common::write_file_atomic(dir / "samples.jsonl", samples);
  for (const fs::path& f : others) fs::remove(f);
  fs::create_directories(dir / "submission");
  task.export_submission(answers, dir / "submission");
  const double eval_seconds = seconds_since(t0);
  report["build"] = build_identity();
  report["decoding"] = decoding_json(s_);
  report["requests"] = reqs.size();
  report["answered_now"] = static_cast<int64_t>(totals[0]);
  report["resumed"] = resumed;
  report["world_size"] = world;
  report["batch_size"] = s_.batch_size;
  report["seconds"] = eval_seconds;
  report["samples_per_s"] = answer_seconds > 0 && totals[0] > 0 ? totals[0] / answer_seconds : 0.0;
  report["prefill_tokens_per_s"] = totals[3] > 0 ? totals[1] / totals[3] : 0.0;
  report["decode_tokens_per_s"] = totals[4] > 0 ? totals[2] / totals[4] : 0.0;
  report["peak_eval_memory_bytes"] = static_cast<int64_t>(totals[5] / world);  // mean over ranks
  report["memory_source"] = mem.source;
  report["feature_cache"] = {{"key", cache_.key()}, {"memory_hits", cache_.hits() - hits0},
                             {"disk_hits", cache_.disk_hits() - disk0}, {"computed", cache_.misses() - miss0},
                             {"rejected_and_recomputed", cache_.rejected() - rejected0}};
  report["batch_check"] = {{"checked", k}, {"mismatches", mismatches}};
  auto count = [&](size_t j) { return static_cast<int64_t>(totals[j]); };
  report["prefill"] = {{"positions_computed", count(1)},
                       {"prefix_positions_computed", count(6)},
                       {"prefix_positions_reused", count(7)},
                       {"padding_positions", count(8)},
                       {"unshared_positions", count(9)},
                       {"minimum_positions", count(10)}};
  report["prefix_sharing"] = {{"enabled", s_.prefix_sharing},
                              {"nodes", static_cast<int64_t>(plan.nodes.size())},
                              {"nodes_dropped_for_memory", dropped},
                              {"planned_peak_bytes", planned_peak},
                              {"peak_bytes", count(13)}};
  report["decode"] = {{"steps", count(11)}, {"cuda_graph_replays", count(12)}, {"cuda_graphs", gen.uses_cuda_graphs()}};
  common::write_file_atomic(dir / "eval.json", report.dump(2) + "\n");
  common::write_file_atomic(dir / "metrics.json", scores.metrics.dump(2) + "\n");  // last: marks the task done
  return report;
}

}  // namespace lnb::harness
