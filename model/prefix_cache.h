// Prefix sharing for evaluation: the KV of a prompt prefix is computed once and reused by
// every request that starts with it. Two parts:
//
//  - plan_prefixes (pure, no tensors): from every request's prompt (token ids with one
//    kImageSlot per image, plus each image's content key) it builds a two-level prefix
//    tree. The root is the longest common prefix of all requests (system prompt and
//    few-shot text turns, the same for every request of a task under one template); under
//    it, one node per group of requests (an image's questions) holding their longest
//    common prefix (everything up to and including the image, and any text its
//    questions share after it). Images are single symbols keyed by content, so two
//    prompts share an image position only when they show the same image. Every request
//    keeps at least one position of its own (its last logits come from its suffix).
//  - PrefixStore: the nodes' keys and values at run time, one segment per node (the
//    positions it adds to its parent), computed on first use by the Generator, released
//    when the last request that was announced for it is done, and counted.
//
// What a request's answer depends on is fixed by the plan, never by what happens to be
// resident: the memory budget is applied to the plan (fit_prefix_budget) by simulating
// the fixed batch order, so a resumed or sharded run shares exactly as much as an
// uninterrupted one.
//
// Not a paged KV cache: segments are copied into each batch's contiguous cache (a copy is
// a small fraction of the prefill it replaces), and there is no eviction at run time.
//
// Glossary: P prefix positions, Hkv key/value heads, Dh head width.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::model {

struct PrefixRequest {
  std::vector<int64_t> prompt;          // ids, kImageSlot per image (Tokenizer::encode_with_image)
  std::vector<std::string> image_keys;  // one per kImageSlot, in order: the image's content key
  std::string group;                    // requests expected to share more than the root (one image's questions)
};

struct PrefixPlan {
  struct Node {
    int64_t parent = -1;       // -1: a root
    int64_t n_symbols = 0;     // prompt entries covered from the start (an image counts as one)
    int64_t n_positions = 0;   // positions after image expansion, from the start
    int64_t n_images = 0;      // images covered from the start
    int64_t example = -1;      // a request whose prompt starts with this node
    int level = 0;             // 0 the task-wide root, 1 a group's node
  };
  std::vector<Node> nodes;     // parents before children
  std::vector<int64_t> node_of;  // per request: its deepest node, -1 = none
  int64_t n_patches = 0;
  // Positions of request i: whole prompt, and those its node covers.
  std::vector<int64_t> positions;
  int64_t prefix_positions(size_t request) const {
    return node_of[request] < 0 ? 0 : nodes[static_cast<size_t>(node_of[request])].n_positions;
  }
  // Positions a node adds to its parent.
  int64_t segment_positions(int64_t node) const;
};

// min_shared: a node is made only if it covers at least this many positions beyond its
// parent and at least two requests use it.
PrefixPlan plan_prefixes(const std::vector<PrefixRequest>& requests, int64_t n_patches, int64_t min_shared = 1);

// The most bytes of prefix KV alive at once when `batches` (request indices, decoding
// order) run in order and each node lives from its first to its last use; then, while
// that exceeds `budget_bytes`, group nodes are dropped (their requests fall back to the
// root), then roots (no sharing). Returns the peak of the plan it leaves; `dropped` counts
// the nodes dropped.
int64_t fit_prefix_budget(PrefixPlan& plan, const std::vector<std::vector<size_t>>& batches, int64_t bytes_per_position,
                          int64_t budget_bytes, int64_t* dropped);

struct PrefixCounters {
  int64_t computed = 0;  // prefix positions run through the decoder (each node once)
  int64_t reused = 0;    // prefix positions a request took from the store instead
  int64_t peak_bytes = 0;
};

class PrefixStore {
 public:
  explicit PrefixStore(PrefixPlan plan);
  const PrefixPlan& plan() const { return plan_; }
  // The requests that will be decoded through the store, each once: a node is released
  // when the last of them has been decoded.
  void expect(size_t request);
  void done(size_t request);

  struct Segment {
    std::vector<at::Tensor> k, v;  // per layer (1, Hkv, positions this node adds, Dh)
    std::vector<int64_t> symbols;  // the prompt entries the node covers (for checking a request)
  };
  // Root-to-node chain of node ids.
  std::vector<int64_t> chain(int64_t node) const;
  bool ready(int64_t node) const { return !segments_[static_cast<size_t>(node)].k.empty(); }
  const Segment& segment(int64_t node) const { return segments_[static_cast<size_t>(node)]; }
  void store(int64_t node, Segment segment);

  PrefixCounters& counters() { return counters_; }
  const PrefixCounters& counters() const { return counters_; }
  int64_t resident_bytes() const { return bytes_; }

 private:
  void release(int64_t node);
  PrefixPlan plan_;
  std::vector<Segment> segments_;
  std::vector<int64_t> uses_;  // announced uses not yet done, per node (children count as uses of parents)
  PrefixCounters counters_;
  int64_t bytes_ = 0;
};

}  // namespace lnb::model
