// See html_report.h.
#include "reports/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "reports/escape.h"

namespace lnb::reports {
namespace {

std::string num(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string cell_text(const std::optional<double>& v) { return v ? num(*v, 6) : "&ndash;"; }

// At most `n` code points, with an ellipsis: chart labels must not run into the bars.
std::string shorten(const std::string& s, size_t n) {
  size_t cps = 0, i = 0;
  while (i < s.size() && cps < n) {
    ++cps;
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i < s.size() ? s.substr(0, i) + "\xE2\x80\xA6" : s;
}

const char* kStyle = R"(<style>
body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:right}
th{background:#f0f3f6;cursor:pointer;position:sticky;top:0}td.t{text-align:left}
tr:nth-child(even) td{background:#f8fafc}.bad{color:#b42318;font-weight:bold}.ok{color:#1a7f37}
.note{color:#57606a;font-size:12px}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;font-size:12px}
svg{background:#fff;border:1px solid #d0d7de;margin:4px}
</style>)";

// Click a header to sort by it (numbers by data-v, text otherwise); no data in JS.
const char* kScript = R"(<script>
document.querySelectorAll('table.sortable th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var tb = th.closest('table').tBodies[0], rows = Array.prototype.slice.call(tb.rows);
    var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      if (x !== undefined && y !== undefined) return dir * ((parseFloat(x) || -Infinity) - (parseFloat(y) || -Infinity));
      return dir * a.cells[col].textContent.localeCompare(b.cells[col].textContent);
    });
    rows.forEach(function(r){ tb.appendChild(r); });
  });
});
</script>)";

std::string page_head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
         "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
         "<title>" + html_escape(title) + "</title>" + kStyle + "</head><body>\n";
}

const char* kPalette[] = {"#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700",
                          "#1b7c83", "#e16f24", "#6e7781", "#a40e26", "#0550ae"};

// Score (y) against trainable parameters (x, log10) for the current run.
std::string scatter(const std::vector<const Row*>& rows) {
  const size_t xc = column_index("trainable_params"), yc = column_index("avg_normalized_score");
  std::vector<std::pair<double, double>> pts;
  for (const Row* r : rows)
    if (r->values[xc] && *r->values[xc] > 0 && r->values[yc]) pts.emplace_back(std::log10(*r->values[xc]), *r->values[yc]);
  std::string s = "<svg width=\"520\" height=\"320\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">avg normalized score vs trainable parameters (log scale)</text>";
  if (pts.empty()) return s + "<text x=\"10\" y=\"40\" font-size=\"12\">no rows with both values</text></svg>";
  double x0 = pts[0].first, x1 = x0, y0 = 0, y1 = 100;
  for (auto [x, y] : pts) x0 = std::min(x0, x), x1 = std::max(x1, x), y1 = std::max(y1, y);
  x0 = std::floor(x0), x1 = std::ceil(x1) + (std::ceil(x1) == std::floor(x0) ? 1 : 0);
  auto X = [&](double x) { return 70 + 360 * (x - x0) / (x1 - x0); };  // room for labels at both ends
  auto Y = [&](double y) { return 290 - 250 * (y - y0) / (y1 - y0); };
  for (double e = x0; e <= x1; ++e)
    s += "<line x1=\"" + num(X(e)) + "\" y1=\"40\" x2=\"" + num(X(e)) + "\" y2=\"290\" stroke=\"#eee\"/><text x=\"" +
         num(X(e) - 10) + "\" y=\"305\" font-size=\"10\">1e" + num(e) + "</text>";
  s += "<line x1=\"50\" y1=\"290\" x2=\"500\" y2=\"290\" stroke=\"#999\"/><line x1=\"50\" y1=\"40\" x2=\"50\" y2=\"290\" stroke=\"#999\"/>";
  size_t k = 0;
  for (const Row* r : rows) {
    if (!(r->values[xc] && *r->values[xc] > 0 && r->values[yc])) continue;
    const double x = X(std::log10(*r->values[xc])), y = Y(*r->values[yc]);
    s += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"5\" fill=\"" + kPalette[k++ % 10] + "\"><title>" +
         html_escape(r->model + " / " + r->strategy) + "</title></circle><text x=\"" + num(x + 7) + "\" y=\"" +
         num(y + 4) + "\" font-size=\"10\">" + html_escape(shorten(r->strategy, 20)) + "</text>";
  }
  return s + "</svg>";
}

std::string bars(const std::vector<const Row*>& rows, const char* column, const char* title) {
  const size_t c = column_index(column);
  double vmax = 0;
  for (const Row* r : rows)
    if (r->values[c]) vmax = std::max(vmax, *r->values[c]);
  std::string s = "<svg width=\"620\" height=\"" + num(40 + 18.0 * static_cast<double>(rows.size())) +
                  "\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">" + html_escape(title) + "</text>";
  double y = 30;
  for (const Row* r : rows) {
    const double w = (r->values[c] && vmax > 0) ? 300 * *r->values[c] / vmax : 0;
    s += "<text x=\"10\" y=\"" + num(y + 11) + "\" font-size=\"10\">" + html_escape(shorten(r->model + "/" + r->strategy, 30)) +
         "</text><rect x=\"200\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"13\" fill=\"#0969da\"/>" +
         "<text x=\"" + num(205 + w) + "\" y=\"" + num(y + 11) + "\" font-size=\"10\">" + cell_text(r->values[c]) + "</text>";
    y += 18;
  }
  return s + "</svg>";
}

// One metric across runs: a line per (model, strategy).
std::string trend(const ReportInputs& in, size_t col) {
  std::map<std::string, std::vector<std::pair<size_t, double>>> series;
  std::map<std::string, size_t> run_index;
  for (size_t i = 0; i < in.runs->size(); ++i) run_index[(*in.runs)[i].run_id] = i;
  double lo = INFINITY, hi = -INFINITY;
  for (const Row& r : *in.rows)
    if (r.values[col]) {
      series[r.model + " / " + r.strategy].emplace_back(run_index[r.run_id], *r.values[col]);
      lo = std::min(lo, *r.values[col]), hi = std::max(hi, *r.values[col]);
    }
  const Column& c = leaderboard_columns()[col];
  std::string s = "<svg width=\"520\" height=\"200\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">" +
                  html_escape(c.name) + " across nights</text>";
  if (series.empty()) return s + "<text x=\"10\" y=\"40\" font-size=\"12\">no values</text></svg>";
  if (hi == lo) hi = lo + 1;
  const double n_runs = std::max<double>(1, static_cast<double>(in.runs->size()) - 1);
  size_t k = 0;
  for (const auto& [name, pts] : series) {
    std::string path;
    for (const auto& [i, v] : pts)
      path += (path.empty() ? "M" : " L") + num(40 + 460 * static_cast<double>(i) / n_runs) + " " + num(180 - 150 * (v - lo) / (hi - lo));
    s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + kPalette[k++ % 10] + "\" stroke-width=\"1.5\"><title>" +
         html_escape(name) + "</title></path>";
  }
  return s + "<text x=\"40\" y=\"195\" font-size=\"10\">" + num(lo, 5) + " .. " + num(hi, 5) + "</text></svg>";
}

}  // namespace

std::string task_page_name(const std::string& task) {
  std::string out = "task_";
  for (unsigned char c : task) {
    if (std::isalnum(c) || c == '_' || c == '-') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%02x", c);
      out += buf;
    }
  }
  return out + ".html";
}

std::vector<Flip> find_flips(const std::vector<PairedTask>& paired, const std::string& task) {
  std::vector<Flip> out;
  for (const PairedTask& p : paired) {
    if (p.task != task) continue;
    for (const auto& [before, after] : p.pairs) {
      const std::string& was = before.parsed.empty() ? before.answer : before.parsed;
      const std::string& now = after.parsed.empty() ? after.answer : after.parsed;
      if (was != now) out.push_back({p.model, p.strategy, after.id, after.prompt, was, now});
    }
  }
  return out;
}

std::string render_index(const ReportInputs& in) {
  const auto& cols = leaderboard_columns();
  std::string h = page_head("lnbench report");
  h += "<h1>lnbench report</h1><p class=\"note\">" + std::to_string(in.runs->size()) + " run(s). Newest: <b>" +
       html_escape(in.current->run_id) + "</b> (" + html_escape(in.current->date) + ", git " +
       html_escape(in.current->git_sha) + ", protocol " + html_escape(in.current->protocol) + ")";
  if (in.baseline) h += "; baseline: <b>" + html_escape(in.baseline->run_id) + "</b>";
  h += "</p>\n";
  std::set<std::string> tasks;
  for (const Cell& c : in.current->cells)
    for (const auto& [t, r] : c.tasks) tasks.insert(t);
  h += "<p>Task pages: ";
  for (const std::string& t : tasks) h += "<a href=\"" + html_escape(task_page_name(t)) + "\">" + html_escape(t) + "</a> ";
  h += "</p>\n<h2>Leaderboard (newest run)</h2>\n<table class=\"sortable\"><thead><tr><th>model</th><th>strategy</th>";
  for (const Column& c : cols) h += "<th title=\"" + html_escape(c.description) + "\">" + html_escape(c.name) + "</th>";
  h += "</tr></thead><tbody>\n";
  std::vector<const Row*> current_rows;
  for (const Row& r : *in.rows)
    if (r.run_id == in.current->run_id) current_rows.push_back(&r);
  for (const Row* r : current_rows) {
    // A checkpoint trained elsewhere says so: its kind beside its name.
    const std::string src = r->source.empty() ? "" : " <small title=\"checkpoint trained elsewhere\">(" + html_escape(r->source) + ")</small>";
    h += "<tr><td class=\"t\">" + html_escape(r->model) + "</td><td class=\"t\">" + html_escape(r->strategy) + src + "</td>";
    for (const auto& v : r->values)
      h += v ? "<td data-v=\"" + num(*v, 17) + "\">" + cell_text(v) + "</td>" : "<td data-v=\"\">&ndash;</td>";
    h += "</tr>\n";
  }
  h += "</tbody></table><p class=\"note\">Click a header to sort. Column definitions: hover a header, or see "
       "leaderboard.csv's documentation in docs/results_store.md.</p>\n";
  h += "<h2>Score per trainable parameter and per GiB</h2>\n" + scatter(current_rows) +
       bars(current_rows, "peak_train_memory_bytes", "peak training memory (bytes) per strategy") + "\n";
  h += "<h2>Regressions against the baseline</h2>\n";
  if (!in.baseline) {
    h += "<p class=\"note\">No baseline run (a single night, or none given).</p>\n";
  } else {
    h += "<p class=\"note\">McNemar exact test (MME, POPE) or paired bootstrap (" +
         std::to_string(in.options.bootstrap_resamples) + " resamples, seed " + std::to_string(in.options.seed) +
         ") on samples paired by id; regression when p &lt; " + num(in.options.alpha) + " and the drop is at least " +
         num(in.options.min_delta) + ".</p><table class=\"sortable\"><thead><tr><th>model</th><th>strategy</th>"
         "<th>task</th><th>test</th><th>paired</th><th>baseline</th><th>current</th><th>p</th><th>verdict</th></tr></thead><tbody>\n";
    for (const Regression& r : in.regressions)
      h += "<tr><td class=\"t\">" + html_escape(r.model) + "</td><td class=\"t\">" + html_escape(r.strategy) +
           "</td><td class=\"t\">" + html_escape(r.task) + "</td><td class=\"t\">" + r.test + "</td><td data-v=\"" +
           std::to_string(r.n_paired) + "\">" + std::to_string(r.n_paired) + "</td><td data-v=\"" + num(r.baseline, 17) +
           "\">" + num(r.baseline, 5) + "</td><td data-v=\"" + num(r.current, 17) + "\">" + num(r.current, 5) +
           "</td><td data-v=\"" + num(r.p_value, 17) + "\">" + num(r.p_value, 3) + "</td><td class=\"" +
           (r.regressed ? "bad\">REGRESSED" : "ok\">ok") + "</td></tr>\n";
    h += "</tbody></table>\n";
  }
  h += "<h2>Trends</h2>\n";
  for (size_t c = 0; c < cols.size(); ++c)
    if (cols[c].score || std::string(cols[c].name) == "avg_normalized_score") h += trend(in, c);
  return h + kScript + "</body></html>\n";
}

std::string render_task_page(const ReportInputs& in, const std::string& task, const std::vector<Flip>& flips) {
  std::string h = page_head("lnbench: " + task);
  h += "<h1>Task " + html_escape(task) + "</h1><p><a href=\"index.html\">back to the leaderboard</a></p>\n";
  const TaskResult* any = nullptr;
  h += "<h2>Values and splits (run " + html_escape(in.current->run_id) + ")</h2><table class=\"sortable\"><thead><tr>"
       "<th>model</th><th>strategy</th><th>split</th><th>name</th><th>value</th></tr></thead><tbody>\n";
  for (const Cell& c : in.current->cells) {
    const auto t = c.tasks.find(task);
    if (t == c.tasks.end()) continue;
    any = &t->second;
    auto row = [&](const std::string& split, const std::string& name, const std::optional<double>& v) {
      h += "<tr><td class=\"t\">" + html_escape(c.model) + "</td><td class=\"t\">" + html_escape(c.strategy) +
           "</td><td class=\"t\">" + html_escape(split) + "</td><td class=\"t\">" + html_escape(name) + "</td><td" +
           (v ? " data-v=\"" + num(*v, 17) + "\"" : std::string()) + ">" + cell_text(v) + "</td></tr>\n";
    };
    for (const auto& [name, v] : t->second.values) row("(all)", name, v);
    for (const auto& [split, vals] : t->second.splits)
      for (const auto& [name, v] : vals) row(split, name, v);
  }
  h += "</tbody></table>\n";
  if (any) {
    h += "<h2>Metric definitions</h2><table><tbody>";
    for (const auto& [k, v] : any->definitions)
      h += "<tr><td class=\"t\">" + html_escape(k) + "</td><td class=\"t\">" + html_escape(v) + "</td></tr>";
    h += "</tbody></table><p class=\"note\">fingerprint " + html_escape(any->fingerprint) + "</p>";
    h += "<h2>Prompt asset</h2><pre>" + html_escape(any->prompt_asset) + "</pre>\n";
  }
  h += "<h2>Flips against " + (in.baseline ? html_escape(in.baseline->run_id) : std::string("(no previous run)")) +
       "</h2><p class=\"note\">" + std::to_string(flips.size()) + " sample(s) changed answer";
  const size_t shown = std::min<size_t>(flips.size(), 500);
  if (shown < flips.size()) h += "; the first " + std::to_string(shown) + " are listed";
  h += ".</p><table class=\"sortable\"><thead><tr><th>model</th><th>strategy</th><th>id</th><th>prompt</th>"
       "<th>before</th><th>after</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < shown; ++i) {
    const Flip& f = flips[i];
    h += "<tr><td class=\"t\">" + html_escape(f.model) + "</td><td class=\"t\">" + html_escape(f.strategy) +
         "</td><td class=\"t\">" + html_escape(f.id) + "</td><td class=\"t\">" + html_escape(f.prompt) +
         "</td><td class=\"t\">" + html_escape(f.before) + "</td><td class=\"t\">" + html_escape(f.after) + "</td></tr>\n";
  }
  return h + "</tbody></table>" + kScript + "</body></html>\n";
}

}  // namespace lnb::reports
