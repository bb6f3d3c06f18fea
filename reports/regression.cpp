// See regression.h.
#include "reports/regression.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <tuple>
#include <unordered_map>

#include "reports/escape.h"

namespace lnb::reports {

bool is_yes_no_task(const std::string& task) { return task == "mme" || task == "pope"; }

McNemar mcnemar_exact(const std::vector<bool>& baseline_correct, const std::vector<bool>& current_correct) {
  McNemar m;
  m.n = static_cast<int64_t>(std::min(baseline_correct.size(), current_correct.size()));
  for (int64_t i = 0; i < m.n; ++i) {
    if (baseline_correct[i] && !current_correct[i]) ++m.base_only;
    if (!baseline_correct[i] && current_correct[i]) ++m.current_only;
  }
  const int64_t d = m.base_only + m.current_only;
  if (d == 0) return m;
  // p = min(1, 2 * P(X <= min(b, c))), X ~ Binomial(d, 1/2), summed in log space.
  const int64_t k = std::min(m.base_only, m.current_only);
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i)
    tail += std::exp(std::lgamma(d + 1.0) - std::lgamma(i + 1.0) - std::lgamma(d - i + 1.0) - d * std::log(2.0));
  m.p_value = std::min(1.0, 2 * tail);
  return m;
}

PairedBootstrap paired_bootstrap(const std::vector<double>& baseline, const std::vector<double>& current,
                                 int resamples, uint64_t seed) {
  PairedBootstrap b;
  const size_t n = std::min(baseline.size(), current.size());
  b.n = static_cast<int64_t>(n);
  if (n == 0) return b;
  std::vector<double> delta(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (delta[i] = current[i] - baseline[i]);
  b.mean_delta = sum / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  int not_worse = 0, not_better = 0;
  for (int r = 0; r < resamples; ++r) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += delta[pick(rng)];
    not_worse += s >= 0;
    not_better += s <= 0;
  }
  b.p_not_worse = static_cast<double>(not_worse) / resamples;
  b.p_not_better = static_cast<double>(not_better) / resamples;
  return b;
}

std::vector<Regression> find_regressions(const std::vector<PairedTask>& paired, const RegressionOptions& opt) {
  std::vector<Regression> out;
  for (const PairedTask& p : paired) {
    const std::string& task = p.task;
    Regression reg{p.model, p.strategy, task, is_yes_no_task(task) ? "mcnemar" : "paired-bootstrap"};
    std::vector<bool> bc, cc;
    std::vector<double> bs, cs;
    for (const auto& [base, cur] : p.pairs) {
      if (is_yes_no_task(task)) {
        if (!cur.correct || !base.correct) continue;
        bc.push_back(*base.correct);
        cc.push_back(*cur.correct);
      } else {
        if (!cur.score || !base.score) continue;
        bs.push_back(*base.score);
        cs.push_back(*cur.score);
      }
    }
    if (is_yes_no_task(task)) {
      const McNemar m = mcnemar_exact(bc, cc);
      reg.n_paired = m.n;
      if (m.n == 0) continue;
      reg.baseline = static_cast<double>(std::count(bc.begin(), bc.end(), true)) / static_cast<double>(m.n);
      reg.current = static_cast<double>(std::count(cc.begin(), cc.end(), true)) / static_cast<double>(m.n);
      reg.p_value = m.p_value;
    } else {
      const PairedBootstrap b = paired_bootstrap(bs, cs, opt.bootstrap_resamples, opt.seed);
      reg.n_paired = b.n;
      if (b.n == 0) continue;
      double sb = 0, sc = 0;
      for (size_t i = 0; i < bs.size(); ++i) sb += bs[i], sc += cs[i];
      reg.baseline = sb / static_cast<double>(bs.size());
      reg.current = sc / static_cast<double>(cs.size());
      reg.p_value = b.p_not_worse;
    }
    // Relative drop for graded scores (their scale varies), absolute for accuracy.
    const double drop = reg.baseline - reg.current;
    const double scale = is_yes_no_task(task) ? 1.0 : std::max(std::abs(reg.baseline), 1e-12);
    reg.regressed = drop > 0 && drop / scale >= opt.min_delta && reg.p_value < opt.alpha;
    out.push_back(std::move(reg));
  }
  return out;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&p](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size());
  double running = 0;
  const double m = static_cast<double>(p.size());
  for (size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * p[order[j]]));
    out[order[j]] = running;
  }
  return out;
}

std::vector<Pairwise> compare_strategies(const RunSamples& run, const RegressionOptions& opt) {
  // Each (model, task)'s strategies with their samples by id.
  struct Key {
    std::string model, task;
    bool operator<(const Key& o) const { return std::tie(model, task) < std::tie(o.model, o.task); }
  };
  std::map<Key, std::vector<std::pair<std::string, std::unordered_map<std::string, const Sample*>>>> by_task;
  for (const auto& [key, samples] : run) {
    std::unordered_map<std::string, const Sample*> m;
    for (const Sample& s : samples) m.emplace(s.id, &s);
    by_task[{key.model, key.task}].emplace_back(key.strategy, std::move(m));
  }
  std::vector<Pairwise> out;
  for (const auto& [key, cells] : by_task) {
    const size_t first = out.size();
    const bool yes_no = is_yes_no_task(key.task);
    for (size_t i = 0; i < cells.size(); ++i)
      for (size_t j = i + 1; j < cells.size(); ++j) {
        Pairwise pw;
        pw.model = key.model, pw.task = key.task, pw.a = cells[i].first, pw.b = cells[j].first;
        pw.test = yes_no ? "mcnemar" : "paired-bootstrap";
        std::vector<bool> ac, bc;
        std::vector<double> as, bs;
        for (const auto& [id, pa] : cells[i].second) {
          const auto it = cells[j].second.find(id);
          if (it == cells[j].second.end()) continue;
          const Sample &sa = *pa, &sb = *it->second;
          if (yes_no && sa.correct && sb.correct) ac.push_back(*sa.correct), bc.push_back(*sb.correct);
          if (!yes_no && sa.score && sb.score) as.push_back(*sa.score), bs.push_back(*sb.score);
        }
        if (yes_no) {
          if (ac.empty()) continue;
          const McNemar m = mcnemar_exact(ac, bc);
          pw.n_paired = m.n;
          pw.a_value = static_cast<double>(std::count(ac.begin(), ac.end(), true)) / static_cast<double>(m.n);
          pw.b_value = static_cast<double>(std::count(bc.begin(), bc.end(), true)) / static_cast<double>(m.n);
          pw.p_value = m.p_value;
        } else {
          if (as.empty()) continue;
          // unordered_map order is not stable: sort the pairs so the bootstrap sees one order.
          std::vector<std::pair<double, double>> ab;
          for (size_t k = 0; k < as.size(); ++k) ab.emplace_back(as[k], bs[k]);
          std::sort(ab.begin(), ab.end());
          for (size_t k = 0; k < ab.size(); ++k) as[k] = ab[k].first, bs[k] = ab[k].second;
          const PairedBootstrap b = paired_bootstrap(bs, as, opt.bootstrap_resamples, opt.seed);
          pw.n_paired = b.n;
          double sa = 0, sb = 0;
          for (size_t k = 0; k < as.size(); ++k) sa += as[k], sb += bs[k];
          pw.a_value = sa / static_cast<double>(as.size());
          pw.b_value = sb / static_cast<double>(bs.size());
          pw.p_value = b.p_two_sided();
        }
        out.push_back(std::move(pw));
      }
    std::vector<double> p;
    for (size_t k = first; k < out.size(); ++k) p.push_back(out[k].p_value);
    const std::vector<double> adj = holm_adjust(p);
    for (size_t k = first; k < out.size(); ++k) {
      Pairwise& pw = out[k];
      pw.p_holm = adj[k - first];
      pw.verdict = pw.p_holm < opt.pairwise_alpha && pw.a_value != pw.b_value
                       ? (pw.a_value > pw.b_value ? pw.a + " > " + pw.b : pw.b + " > " + pw.a)
                       : "not distinguishable";
    }
  }
  return out;
}

std::string pairwise_csv(const std::string& run_id, const std::vector<Pairwise>& rows) {
  std::string out = "run_id,model,task,strategy_a,strategy_b,test,n_paired,a,b,p_value,p_holm,verdict\n";
  char buf[160];
  for (const Pairwise& r : rows) {
    out += csv_field(run_id) + ',' + csv_field(r.model) + ',' + csv_field(r.task) + ',' + csv_field(r.a) + ',' +
           csv_field(r.b) + ',' + r.test + ',' + std::to_string(r.n_paired);
    std::snprintf(buf, sizeof buf, ",%.17g,%.17g,%.17g,%.17g,", r.a_value, r.b_value, r.p_value, r.p_holm);
    out += buf + csv_field(r.verdict) + '\n';
  }
  return out;
}

}  // namespace lnb::reports
