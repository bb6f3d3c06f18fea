// The fast caption scorer's slow twin: pycocoevalcap 1.2's bleu_scorer.py, rouge.py and
// cider_scorer.py transcribed naively (n-grams as strings in insertion-ordered maps, one
// global document-frequency map, one thread), against CaptionAccumulator's interned
// 128-bit keys, per-image parallel counting and sharded document frequencies, run on 1 to
// 16 threads. Every per-image and corpus double must be identical for every thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "metrics/caption_metrics.h"
#include "metrics/parallel.h"
#include "metrics/pyfloat.h"

namespace lnb::metrics {
namespace {

std::vector<std::string> split_ws(const std::string& s) {  // str.split()
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!w.empty()) out.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

std::vector<std::string> split_space(const std::string& s) {  // str.split(" ")
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ' ') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// precook(): n-gram -> count in first-occurrence order, n = 1..4 (a Python dict).
struct Counts {
  std::vector<std::pair<std::string, int>> items;
  std::map<std::string, size_t> at;
  int64_t len = 0;
  void add(const std::string& g) {
    const auto [it, fresh] = at.emplace(g, items.size());
    if (fresh) items.emplace_back(g, 0);
    ++items[it->second].second;
  }
  int get(const std::string& g) const {
    const auto it = at.find(g);
    return it == at.end() ? 0 : items[it->second].second;
  }
};

Counts precook(const std::string& s) {
  Counts c;
  const auto words = split_ws(s);
  c.len = static_cast<int64_t>(words.size());
  for (size_t k = 1; k <= 4; ++k)
    for (size_t i = 0; i + k <= words.size(); ++i) {
      std::string g = words[i];
      for (size_t j = 1; j < k; ++j) g += " " + words[i + j];
      c.add(std::to_string(k) + "|" + g);  // the tuple's length is part of the key
    }
  return c;
}

int order_of(const std::string& key) { return key[0] - '1'; }

struct BleuComps {
  int64_t testlen = 0, reflen = 0;
  std::array<int64_t, 4> guess{}, correct{};
};

std::array<double, 4> bleu_of(const BleuComps& c) {
  const double small = 1e-9, tiny = 1e-15;
  std::array<double, 4> out{};
  double bleu = 1.0;
  for (int k = 0; k < 4; ++k) {
    bleu *= (static_cast<double>(c.correct[k]) + tiny) / (static_cast<double>(c.guess[k]) + small);
    out[k] = std::pow(bleu, 1.0 / (k + 1));
  }
  const double ratio = (static_cast<double>(c.testlen) + tiny) / (static_cast<double>(c.reflen) + small);
  if (ratio < 1)
    for (double& b : out) b *= std::exp(1 - 1 / ratio);
  return out;
}

int lcs(const std::vector<std::string>& x, const std::vector<std::string>& y) {
  std::vector<std::vector<int>> t(x.size() + 1, std::vector<int>(y.size() + 1, 0));
  for (size_t i = 1; i <= x.size(); ++i)
    for (size_t j = 1; j <= y.size(); ++j)
      t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t[x.size()][y.size()];
}

struct Reference {
  std::vector<std::array<double, 4>> bleu;
  std::vector<double> rouge, cider;
  std::array<double, 4> corpus_bleu{};
  double corpus_rouge = 0, corpus_cider = 0;
};

Reference reference(const std::vector<std::string>& cands, const std::vector<std::vector<std::string>>& refs) {
  Reference out;
  const size_t n = cands.size();
  // BLEU ("closest" reference length), per image and from the summed comps.
  BleuComps total;
  for (size_t i = 0; i < n; ++i) {
    const Counts t = precook(cands[i]);
    std::vector<Counts> rc;
    for (const auto& r : refs[i]) rc.push_back(precook(r));
    BleuComps c;
    c.testlen = t.len;
    std::pair<int64_t, int64_t> best{INT64_MAX, INT64_MAX};
    for (const Counts& r : rc) best = std::min(best, {std::llabs(r.len - t.len), r.len});
    c.reflen = best.second;
    for (int k = 0; k < 4; ++k) c.guess[k] = std::max<int64_t>(0, t.len - k);
    for (const auto& [g, count] : t.items) {
      int maxref = 0;
      for (const Counts& r : rc) maxref = std::max(maxref, r.get(g));
      c.correct[order_of(g)] += std::min(maxref, count);
    }
    out.bleu.push_back(bleu_of(c));
    total.testlen += c.testlen;
    total.reflen += c.reflen;
    for (int k = 0; k < 4; ++k) total.guess[k] += c.guess[k], total.correct[k] += c.correct[k];
  }
  out.corpus_bleu = bleu_of(total);
  // ROUGE-L, beta 1.2, tokens by split(" ").
  for (size_t i = 0; i < n; ++i) {
    const auto tc = split_space(cands[i]);
    double prec_max = -1, rec_max = -1;
    for (const auto& r : refs[i]) {
      const auto tr = split_space(r);
      const int l = lcs(tr, tc);
      prec_max = std::max(prec_max, l / static_cast<double>(tc.size()));
      rec_max = std::max(rec_max, l / static_cast<double>(tr.size()));
    }
    const double b2 = 1.2 * 1.2;
    out.rouge.push_back(prec_max != 0 && rec_max != 0 ? ((1 + b2) * prec_max * rec_max) / (rec_max + b2 * prec_max) : 0.0);
  }
  out.corpus_rouge = n ? numpy_mean(out.rouge) : 0.0;
  // CIDEr-D: document frequency over each image's reference n-gram set.
  std::map<std::string, double> df;
  for (size_t i = 0; i < n; ++i) {
    std::map<std::string, bool> seen;
    for (const auto& r : refs[i])
      for (const auto& [g, c] : precook(r).items) seen[g] = true;
    for (const auto& [g, b] : seen) df[g] += 1;
  }
  const double ref_len = std::log(static_cast<double>(n));
  struct Vec {
    std::array<std::map<std::string, double>, 4> v;
    std::array<std::vector<std::string>, 4> order;
    std::array<double, 4> norm{};
    int64_t length = 0;
  };
  auto counts2vec = [&](const Counts& c) {
    Vec out_v;
    for (const auto& [g, tf] : c.items) {
      const int k = order_of(g);
      const auto it = df.find(g);
      const double d = std::log(std::max(1.0, it == df.end() ? 0.0 : it->second));
      const double w = static_cast<double>(tf) * (ref_len - d);
      out_v.v[k][g] = w;
      out_v.order[k].push_back(g);
      out_v.norm[k] += std::pow(w, 2);
      if (k == 1) out_v.length += tf;
    }
    for (double& x : out_v.norm) x = std::sqrt(x);
    return out_v;
  };
  for (size_t i = 0; i < n; ++i) {
    const Vec h = counts2vec(precook(cands[i]));
    std::array<double, 4> score{};
    for (const auto& r : refs[i]) {
      const Vec rv = counts2vec(precook(r));
      const double delta = static_cast<double>(h.length - rv.length);
      for (int k = 0; k < 4; ++k) {
        double val = 0;
        for (const std::string& g : h.order[k]) {
          const auto it = rv.v[k].find(g);
          const double wr = it == rv.v[k].end() ? 0.0 : it->second;
          val += std::min(h.v[k].at(g), wr) * wr;
        }
        if (h.norm[k] != 0 && rv.norm[k] != 0) val /= (h.norm[k] * rv.norm[k]);
        val *= std::pow(2.718281828459045, -(delta * delta) / (2 * (6.0 * 6.0)));
        score[k] += val;
      }
    }
    double avg = numpy_mean(score);
    avg /= static_cast<double>(refs[i].size());
    avg *= 10.0;
    out.cider.push_back(avg);
  }
  out.corpus_cider = n ? numpy_mean(out.cider) : 0.0;
  return out;
}

// A COCO-like corpus: a small vocabulary in repeated phrases, so n-grams recur across
// images (document frequencies above 1), with empty and one-word captions mixed in.
void corpus(uint32_t seed, size_t n_images, std::vector<std::string>& cands, std::vector<std::vector<std::string>>& refs) {
  std::mt19937 rng(seed);
  const std::vector<std::string> phrases = {"a man", "riding a", "horse", "on the", "beach", "a dog", "running in",
                                            "the grass", "two cats", "sleeping on", "a bed", "red", "next to", "a"};
  auto caption = [&] {
    const int n = static_cast<int>(rng() % 9);
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + phrases[rng() % phrases.size()];
    return s;
  };
  for (size_t i = 0; i < n_images; ++i) {
    cands.push_back(caption());
    refs.emplace_back();
    const int nr = 1 + static_cast<int>(rng() % 6);
    for (int r = 0; r < nr; ++r) refs.back().push_back(caption());
    if (i == 0) refs.back().push_back("a man riding a horse");  // no image has only empty references
  }
}

TEST(CaptionReference, FastScorerEqualsTheNaiveTranscriptionOnAnyThreadCount) {
  for (const uint32_t seed : {1u, 2u, 3u}) {
    std::vector<std::string> cands;
    std::vector<std::vector<std::string>> refs;
    corpus(seed, 1500, cands, refs);
    const Reference want = reference(cands, refs);
    for (const size_t threads : {1, 2, 3, 4, 7, 16}) {
      set_parallel_threads(threads);
      CaptionAccumulator acc;
      for (size_t i = 0; i < cands.size(); ++i) acc.add(static_cast<int64_t>(i), std::to_string(i), cands[i], refs[i]);
      const CaptionScores got = acc.compute();
      set_parallel_threads(0);
      SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(threads) + " threads");
      ASSERT_EQ(got.per_image.size(), cands.size());
      size_t mismatches = 0;
      for (size_t i = 0; i < cands.size(); ++i) {
        mismatches += got.per_image[i].bleu != want.bleu[i];
        mismatches += got.per_image[i].rouge_l != want.rouge[i];
        mismatches += got.per_image[i].cider != want.cider[i];
      }
      EXPECT_EQ(mismatches, 0u);
      EXPECT_EQ(got.bleu, want.corpus_bleu);
      EXPECT_EQ(got.rouge_l, want.corpus_rouge);
      EXPECT_EQ(got.cider, want.corpus_cider);
      EXPECT_GT(got.cider, 0.0);
    }
  }
}

}  // namespace
}  // namespace lnb::metrics
