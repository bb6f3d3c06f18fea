// See caption_metrics.h. Float operations follow the Python sources line by line
// (pycocoevalcap bleu_scorer.py, rouge.py, cider_scorer.py); comments name the line.
#include "metrics/caption_metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "metrics/ngram_table.h"
#include "metrics/parallel.h"
#include "metrics/pyfloat.h"

namespace lnb::metrics {
namespace {

constexpr double kNumpyE = 2.718281828459045;  // np.e

// --- BLEU ----------------------------------------------------------------------
struct BleuStats {
  int64_t testlen = 0, reflen = 0;
  std::array<int64_t, 4> guess{}, correct{};
};

BleuStats bleu_stats(const CaptionCounts& cand, const std::vector<CaptionCounts>& refs) {
  BleuStats s;
  s.testlen = cand.n_words();
  // _single_reflen 'closest': min over (|l - testlen|, l).
  std::pair<int64_t, int64_t> best{INT64_MAX, INT64_MAX};
  for (const CaptionCounts& r : refs) best = std::min(best, {std::llabs(r.n_words() - s.testlen), int64_t{r.n_words()}});
  s.reflen = best.second;
  for (int k = 0; k < 4; ++k) {
    s.guess[k] = std::max<int64_t>(0, s.testlen - k);
    for (const NgramCount& g : cand.order(k)) {
      int32_t maxref = 0;
      for (const CaptionCounts& r : refs)
        for (const NgramCount& rg : r.order(k))
          if (rg.key == g.key) maxref = std::max(maxref, rg.count);
      s.correct[k] += std::min(maxref, g.count);
    }
  }
  return s;
}

std::array<double, 4> bleu_from(const BleuStats& s) {
  const double small = 1e-9, tiny = 1e-15;
  std::array<double, 4> out{};
  double bleu = 1.0;
  for (int k = 0; k < 4; ++k) {
    bleu *= (static_cast<double>(s.correct[k]) + tiny) / (static_cast<double>(s.guess[k]) + small);
    out[k] = std::pow(bleu, 1.0 / (k + 1));
  }
  const double ratio = (static_cast<double>(s.testlen) + tiny) / (static_cast<double>(s.reflen) + small);
  if (ratio < 1)
    for (double& b : out) b *= std::exp(1 - 1 / ratio);
  return out;
}

// --- ROUGE-L -------------------------------------------------------------------
int lcs(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double rouge_l(const std::vector<int32_t>& cand, const std::vector<const std::vector<int32_t>*>& refs) {
  const double beta = 1.2;
  double prec_max = -1, rec_max = -1;
  for (const std::vector<int32_t>* r : refs) {
    const int l = lcs(*r, cand);
    prec_max = std::max(prec_max, l / static_cast<double>(cand.size()));
    rec_max = std::max(rec_max, l / static_cast<double>(r->size()));
  }
  if (prec_max != 0 && rec_max != 0) {
    const double b2 = beta * beta;  // self.beta**2
    return ((1 + b2) * prec_max * rec_max) / (rec_max + b2 * prec_max);
  }
  return 0.0;
}

// --- CIDEr-D -------------------------------------------------------------------
// TF-IDF weights of one caption, parallel to its CaptionCounts::grams.
struct CiderVec {
  const CaptionCounts* counts = nullptr;
  std::vector<double> w;
  std::array<double, 4> norm{};
  int64_t length = 0;
};

CiderVec counts2vec(const CaptionCounts& c, double ref_len, const DfTable& df) {
  CiderVec v;
  v.counts = &c;
  v.w.resize(c.grams.size());
  for (int n = 0; n < 4; ++n) {
    for (int32_t k = c.start[n]; k < c.start[n + 1]; ++k) {
      const NgramCount& g = c.grams[k];
      const double w = static_cast<double>(g.count) * (ref_len - df.log_df(g.key));
      v.w[k] = w;
      v.norm[n] += std::pow(w, 2);
      if (n == 1) v.length += g.count;  // the bigram "length" quirk
    }
    v.norm[n] = std::sqrt(v.norm[n]);
  }
  return v;
}

std::array<double, 4> cider_sim(const CiderVec& hyp, const CiderVec& ref) {
  const double delta = static_cast<double>(hyp.length - ref.length);
  std::array<double, 4> val{};
  const CaptionCounts& hc = *hyp.counts;
  const CaptionCounts& rc = *ref.counts;
  for (int n = 0; n < 4; ++n) {
    for (int32_t k = hc.start[n]; k < hc.start[n + 1]; ++k) {
      const double wh = hyp.w[k];
      double wr = 0;
      for (int32_t m = rc.start[n]; m < rc.start[n + 1]; ++m)
        if (rc.grams[m].key == hc.grams[k].key) { wr = ref.w[m]; break; }
      val[n] += std::min(wh, wr) * wr;
    }
    if (hyp.norm[n] != 0 && ref.norm[n] != 0) val[n] /= (hyp.norm[n] * ref.norm[n]);
    val[n] *= cider_length_penalty(delta);
  }
  return val;
}

}  // namespace

double cider_length_penalty(double delta, double sigma) {
  return std::pow(kNumpyE, -(delta * delta) / (2 * (sigma * sigma)));
}

FixedIdf FixedIdf::from_references(const std::vector<std::vector<std::string>>& refs_per_image) {
  FixedIdf out;
  for (const auto& refs : refs_per_image) {
    std::vector<std::string> seen;
    for (const std::string& r : refs) {
      const auto words = python_split(r);
      for (size_t n = 1; n <= 4; ++n)
        for (size_t i = 0; i + n <= words.size(); ++i) {
          std::string g(words[i]);
          for (size_t k = 1; k < n; ++k) (g += ' ') += words[i + k];
          seen.push_back(std::move(g));
        }
    }
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (const std::string& g : seen) ++out.df[g];
  }
  out.n_images = static_cast<int64_t>(refs_per_image.size());
  out.ref_len = std::log(static_cast<double>(out.n_images));
  return out;
}

void CaptionAccumulator::add(int64_t order, std::string image_id, std::string candidate,
                             std::vector<std::string> refs) {
  if (refs.empty()) throw std::invalid_argument("caption image '" + image_id + "' has no reference captions");
  items_.push_back({order, std::move(image_id), std::move(candidate), std::move(refs)});
}

void CaptionAccumulator::merge(const CaptionAccumulator& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

CaptionScores CaptionAccumulator::compute(CiderIdf idf, const FixedIdf* fixed) const {
  std::vector<const Item*> items;
  for (const Item& it : items_) items.push_back(&it);
  std::sort(items.begin(), items.end(), [](const Item* a, const Item* b) { return a->order < b->order; });
  for (size_t i = 1; i < items.size(); ++i)
    if (items[i]->order == items[i - 1]->order)
      throw std::invalid_argument("caption accumulator: order key " + std::to_string(items[i]->order) + " added twice");

  // Phase 1 (serial): intern words exactly; the word table is not thread-safe.
  WordTable words;
  const size_t n = items.size();
  std::vector<CaptionCounts> cand(n);
  std::vector<std::vector<CaptionCounts>> refs(n);
  // ROUGE-L splits on " ": the same word ids unless the caption has other whitespace,
  // in which case it gets its own split here.
  std::vector<std::vector<int32_t>> cand_split(n);
  std::vector<std::vector<std::vector<int32_t>>> ref_split(n);
  for (size_t i = 0; i < n; ++i) {
    words.split(items[i]->candidate, cand[i]);
    if (!cand[i].single_spaced) cand_split[i] = words.split_single_space(items[i]->candidate);
    refs[i].resize(items[i]->refs.size());
    ref_split[i].resize(items[i]->refs.size());
    for (size_t r = 0; r < refs[i].size(); ++r) {
      words.split(items[i]->refs[r], refs[i][r]);
      if (!refs[i][r].single_spaced) ref_split[i][r] = words.split_single_space(items[i]->refs[r]);
    }
  }
  auto rouge_ids = [](const CaptionCounts& c, const std::vector<int32_t>& split) -> const std::vector<int32_t>& {
    return c.single_spaced ? c.words : split;
  };

  // Phase 2 (parallel over images): n-gram counts, and each image's distinct reference
  // n-grams (document frequency counts images, not sentences).
  std::vector<std::vector<NgramKey>> image_keys(n);
  parallel_blocks(n, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      count_ngrams(cand[i]);
      std::vector<NgramKey>& keys = image_keys[i];
      for (CaptionCounts& r : refs[i]) {
        count_ngrams(r);
        for (const NgramCount& g : r.grams) keys.push_back(g.key);
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }
  }, 64);

  CaptionScores out;
  out.n_images = static_cast<int64_t>(n);
  out.per_image.resize(n);

  // Phase 3 (parallel over hash shards): document frequencies.
  const size_t n_shards = parallel_threads();
  size_t n_keys = 0;
  for (const auto& keys : image_keys) n_keys += keys.size();
  DfTable df(n_shards, n_keys);  // an upper bound of the distinct keys
  double ref_len = 0;
  if (idf == CiderIdf::kEvaluatedSet) {
    out.idf_mode = "evaluated-set";
    parallel_blocks(n_shards, [&](size_t begin, size_t end) {
      for (size_t shard = begin; shard < end; ++shard)
        for (const auto& keys : image_keys)
          for (const NgramKey& k : keys)
            if (df.shard_of(k) == shard) df.add(shard, k);
    }, 1);
    if (n > 0 && df.max_df() == 0)
      throw std::invalid_argument("CIDEr: every reference caption is empty (pycocoevalcap fails on this set)");
    ref_len = std::log(static_cast<double>(n));
  } else {
    if (fixed == nullptr) throw std::invalid_argument("CIDEr fixed-reference IDF requested without a reference set");
    out.idf_mode = "fixed-reference";
    ref_len = fixed->ref_len;
    auto note = [&](size_t shard, const CaptionCounts& c) {
      for (const NgramCount& g : c.grams) {
        if (df.shard_of(g.key) != shard || df.df(g.key) != 0) continue;
        const auto it = fixed->df.find(words.text(g.key));
        if (it != fixed->df.end()) df.add(shard, g.key, it->second);
      }
    };
    parallel_blocks(n_shards, [&](size_t begin, size_t end) {
      for (size_t shard = begin; shard < end; ++shard)
        for (size_t i = 0; i < n; ++i) {
          note(shard, cand[i]);
          for (const CaptionCounts& r : refs[i]) note(shard, r);
        }
    }, 1);
  }
  df.finish();

  // Phase 4 (parallel over images): every per-image score lands in its own slot.
  std::vector<BleuStats> stats(n);
  std::vector<double> rouge(n), cider(n);
  parallel_blocks(n, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      stats[i] = bleu_stats(cand[i], refs[i]);
      out.per_image[i].image_id = items[i]->image_id;
      out.per_image[i].bleu = bleu_from(stats[i]);
      std::vector<const std::vector<int32_t>*> ref_ids;
      for (size_t r = 0; r < refs[i].size(); ++r) ref_ids.push_back(&rouge_ids(refs[i][r], ref_split[i][r]));
      rouge[i] = rouge_l(rouge_ids(cand[i], cand_split[i]), ref_ids);
      out.per_image[i].rouge_l = rouge[i];
      const CiderVec hyp = counts2vec(cand[i], ref_len, df);
      std::array<double, 4> score{};
      for (const CaptionCounts& r : refs[i]) {
        const auto sim = cider_sim(hyp, counts2vec(r, ref_len, df));
        for (int k = 0; k < 4; ++k) score[k] += sim[k];
      }
      double avg = numpy_mean(score);
      avg /= static_cast<double>(refs[i].size());
      avg *= 10.0;
      cider[i] = avg;
      out.per_image[i].cider = avg;
    }
  }, 64);

  // Phase 5 (serial, fixed order): corpus scores.
  BleuStats total;
  for (const BleuStats& st : stats) {
    total.testlen += st.testlen;
    total.reflen += st.reflen;
    for (int k = 0; k < 4; ++k) total.guess[k] += st.guess[k], total.correct[k] += st.correct[k];
  }
  out.bleu = bleu_from(total);
  out.rouge_l = n ? numpy_mean(rouge) : 0.0;
  out.cider = n ? numpy_mean(cider) : 0.0;
  return out;
}

}  // namespace lnb::metrics
