// See regression.h.
#include "reports/regression.h"

#include <algorithm>
#include <cmath>
#include <random>

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
  int not_worse = 0;
  for (int r = 0; r < resamples; ++r) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += delta[pick(rng)];
    not_worse += s >= 0;
  }
  b.p_not_worse = static_cast<double>(not_worse) / resamples;
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

}  // namespace lnb::reports
