// See prefix_cache.h.
#include "model/prefix_cache.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <c10/util/Exception.h>

#include "model/tokenizer.h"

namespace lnb::model {

namespace {

constexpr int64_t kFirstImageSymbol = -1000;  // images become -1000, -1001, ... (token ids are >= 0)

struct Keyed {
  std::vector<int64_t> symbols;    // image slots replaced by per-content symbols
  std::vector<int64_t> positions;  // positions[n] = expanded positions of the first n symbols
  std::vector<int64_t> images;     // images[n] = images among the first n symbols
};

Keyed key_of(const PrefixRequest& r, int64_t n_patches, std::map<std::string, int64_t>& image_ids) {
  Keyed k;
  k.positions.push_back(0);
  k.images.push_back(0);
  size_t image = 0;
  for (int64_t id : r.prompt) {
    if (id == kImageSlot) {
      if (image >= r.image_keys.size())
        throw std::invalid_argument("plan_prefixes: a prompt has more image slots than image keys");
      const auto it = image_ids.emplace(r.image_keys[image++], static_cast<int64_t>(image_ids.size())).first;
      k.symbols.push_back(kFirstImageSymbol - it->second);
      k.positions.push_back(k.positions.back() + n_patches);
      k.images.push_back(k.images.back() + 1);
    } else {
      k.symbols.push_back(id);
      k.positions.push_back(k.positions.back() + 1);
      k.images.push_back(k.images.back());
    }
  }
  if (image != r.image_keys.size()) throw std::invalid_argument("plan_prefixes: a prompt has fewer image slots than image keys");
  return k;
}

// Longest common prefix (in symbols) of the members, leaving each at least one symbol.
int64_t common_prefix(const std::vector<Keyed>& keys, const std::vector<size_t>& members) {
  const std::vector<int64_t>& first = keys[members.front()].symbols;
  int64_t n = static_cast<int64_t>(first.size());
  for (size_t m : members) {
    const std::vector<int64_t>& s = keys[m].symbols;
    n = std::min<int64_t>(n, static_cast<int64_t>(s.size()) - 1);
    int64_t i = 0;
    while (i < n && s[static_cast<size_t>(i)] == first[static_cast<size_t>(i)]) ++i;
    n = i;
  }
  return std::max<int64_t>(n, 0);
}

// Drops the nodes `drop` says, reattaching their requests (and children) to the nearest
// kept ancestor, and renumbers the rest.
void drop_nodes(PrefixPlan& plan, const std::vector<bool>& drop) {
  std::vector<int64_t> renum(plan.nodes.size(), -1);
  std::vector<PrefixPlan::Node> kept;
  auto kept_ancestor = [&](int64_t n) {
    while (n >= 0 && drop[static_cast<size_t>(n)]) n = plan.nodes[static_cast<size_t>(n)].parent;
    return n;
  };
  for (size_t n = 0; n < plan.nodes.size(); ++n) {
    if (drop[n]) continue;
    PrefixPlan::Node node = plan.nodes[n];
    const int64_t p = kept_ancestor(node.parent);
    node.parent = p < 0 ? -1 : renum[static_cast<size_t>(p)];
    renum[n] = static_cast<int64_t>(kept.size());
    kept.push_back(node);
  }
  for (int64_t& n : plan.node_of) {
    const int64_t a = kept_ancestor(n);
    n = a < 0 ? -1 : renum[static_cast<size_t>(a)];
  }
  plan.nodes = std::move(kept);
}

}  // namespace

int64_t PrefixPlan::segment_positions(int64_t node) const {
  const Node& n = nodes[static_cast<size_t>(node)];
  return n.n_positions - (n.parent < 0 ? 0 : nodes[static_cast<size_t>(n.parent)].n_positions);
}

PrefixPlan plan_prefixes(const std::vector<PrefixRequest>& requests, int64_t n_patches, int64_t min_shared) {
  PrefixPlan plan;
  plan.n_patches = n_patches;
  plan.node_of.assign(requests.size(), -1);
  std::map<std::string, int64_t> image_ids;
  std::vector<Keyed> keys;
  keys.reserve(requests.size());
  for (const PrefixRequest& r : requests) {
    keys.push_back(key_of(r, n_patches, image_ids));
    plan.positions.push_back(keys.back().positions.back());
  }
  if (requests.size() < 2) return plan;
  auto make_node = [&](int64_t parent, size_t example, int64_t n_symbols, int level) {
    const Keyed& k = keys[example];
    plan.nodes.push_back({parent, n_symbols, k.positions[static_cast<size_t>(n_symbols)],
                          k.images[static_cast<size_t>(n_symbols)], static_cast<int64_t>(example), level});
    return static_cast<int64_t>(plan.nodes.size()) - 1;
  };

  std::vector<size_t> all(requests.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const int64_t root_symbols = common_prefix(keys, all);
  int64_t root = -1, root_positions = 0;
  if (root_symbols > 0 && keys[0].positions[static_cast<size_t>(root_symbols)] >= min_shared) {
    root = make_node(-1, 0, root_symbols, 0);
    root_positions = plan.nodes[static_cast<size_t>(root)].n_positions;
    std::fill(plan.node_of.begin(), plan.node_of.end(), root);
  }

  // Groups in order of first appearance; an empty group is a request on its own.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].group.empty()) continue;
    auto& members = groups[requests[i].group];
    if (members.empty()) order.push_back(requests[i].group);
    members.push_back(i);
  }
  for (const std::string& g : order) {
    const std::vector<size_t>& members = groups[g];
    if (members.size() < 2) continue;
    const int64_t n = common_prefix(keys, members);
    const int64_t positions = keys[members.front()].positions[static_cast<size_t>(n)];
    if (n <= root_symbols || positions - root_positions < min_shared) continue;
    const int64_t node = make_node(root, members.front(), n, 1);
    for (size_t m : members) plan.node_of[m] = node;
  }
  return plan;
}

int64_t fit_prefix_budget(PrefixPlan& plan, const std::vector<std::vector<size_t>>& batches, int64_t bytes_per_position,
                          int64_t budget_bytes, int64_t* dropped) {
  auto peak_of = [&](const PrefixPlan& p) {
    const size_t n = p.nodes.size();
    std::vector<int64_t> first(n, -1), last(n, -1);
    for (size_t b = 0; b < batches.size(); ++b)
      for (size_t r : batches[b])
        for (int64_t node = p.node_of[r]; node >= 0; node = p.nodes[static_cast<size_t>(node)].parent) {
          auto& f = first[static_cast<size_t>(node)];
          if (f < 0) f = static_cast<int64_t>(b);
          last[static_cast<size_t>(node)] = static_cast<int64_t>(b);
        }
    std::vector<int64_t> delta(batches.size() + 1, 0);
    for (size_t node = 0; node < n; ++node) {
      if (first[node] < 0) continue;
      const int64_t bytes = p.segment_positions(static_cast<int64_t>(node)) * bytes_per_position;
      delta[static_cast<size_t>(first[node])] += bytes;
      delta[static_cast<size_t>(last[node]) + 1] -= bytes;
    }
    int64_t live = 0, peak = 0;
    for (int64_t d : delta) peak = std::max(peak, live += d);
    return peak;
  };
  int64_t n_dropped = 0;
  int64_t peak = peak_of(plan);
  // First the group nodes, then the roots.
  for (int level = 1; level >= 0 && peak > budget_bytes; --level) {
    std::vector<bool> drop(plan.nodes.size(), false);
    for (size_t n = 0; n < plan.nodes.size(); ++n) drop[n] = plan.nodes[n].level == level;
    n_dropped += std::count(drop.begin(), drop.end(), true);
    drop_nodes(plan, drop);
    peak = peak_of(plan);
  }
  if (dropped) *dropped = n_dropped;
  return peak;
}

PrefixStore::PrefixStore(PrefixPlan plan)
    : plan_(std::move(plan)), segments_(plan_.nodes.size()), uses_(plan_.nodes.size(), 0) {}

std::vector<int64_t> PrefixStore::chain(int64_t node) const {
  std::vector<int64_t> c;
  for (int64_t n = node; n >= 0; n = plan_.nodes[static_cast<size_t>(n)].parent) c.push_back(n);
  std::reverse(c.begin(), c.end());
  return c;
}

void PrefixStore::expect(size_t request) {
  TORCH_CHECK(request < plan_.node_of.size(), "PrefixStore: request ", request, " is not in the plan");
  for (int64_t n = plan_.node_of[request]; n >= 0; n = plan_.nodes[static_cast<size_t>(n)].parent) ++uses_[static_cast<size_t>(n)];
}

void PrefixStore::done(size_t request) {
  TORCH_CHECK(request < plan_.node_of.size(), "PrefixStore: request ", request, " is not in the plan");
  for (int64_t n = plan_.node_of[request]; n >= 0; n = plan_.nodes[static_cast<size_t>(n)].parent) {
    int64_t& u = uses_[static_cast<size_t>(n)];
    if (u > 0 && --u == 0) release(n);
  }
}

void PrefixStore::store(int64_t node, Segment segment) {
  TORCH_CHECK(node >= 0 && static_cast<size_t>(node) < segments_.size() && !ready(node), "PrefixStore: bad node ", node);
  for (const auto& t : segment.k) bytes_ += static_cast<int64_t>(t.nbytes());
  for (const auto& t : segment.v) bytes_ += static_cast<int64_t>(t.nbytes());
  counters_.peak_bytes = std::max(counters_.peak_bytes, bytes_);
  segments_[static_cast<size_t>(node)] = std::move(segment);
}

void PrefixStore::release(int64_t node) {
  Segment& s = segments_[static_cast<size_t>(node)];
  for (const auto& t : s.k) bytes_ -= static_cast<int64_t>(t.nbytes());
  for (const auto& t : s.v) bytes_ -= static_cast<int64_t>(t.nbytes());
  s = Segment();
}

}  // namespace lnb::model
