// See html_report.h.
#include "reports/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "reports/escape.h"

namespace lnb::reports {
namespace {

std::string num(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

const char* kMissing = "&mdash;";  // a metric this row (or task) does not have

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

std::string range_text(const Range& r, Unit unit) {
  return "[" + human_value(r.lo, unit) + ", " + human_value(r.hi, unit) + "]";
}

// A table cell: the value in human units (raw in data-v for sorting and in the title),
// its 95 % interval below it where known, or a dash.
std::string value_cell(const std::optional<double>& v, const std::optional<Range>& iv, Unit unit) {
  if (!v) return "<td data-v=\"\">" + std::string(kMissing) + "</td>";
  std::string h = "<td data-v=\"" + num(*v, 17) + "\" title=\"" + num(*v, 10) + "\">" + human_value(*v, unit);
  if (iv) h += "<br><small class=\"ci\" title=\"95 % interval\">" + range_text(*iv, unit) + "</small>";
  return h + "</td>";
}

const char* kStyle = R"(<style>
body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#1b1f24;background:#fff;max-width:1800px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:separate;border-spacing:0;font-size:12px}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:right;background:#fff}
th{background:#f0f3f6;cursor:pointer;position:sticky;top:0;z-index:1}td.t{text-align:left}
tr:nth-child(even) td{background:#f8fafc}.bad{color:#b42318;font-weight:bold}.ok{color:#1a7f37}
.note{color:#57606a;font-size:12px}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;font-size:12px}
.scroll{overflow-x:auto;max-width:100%;border:1px solid #d0d7de}
.scroll th:nth-child(1),.scroll td:nth-child(1){position:sticky;left:0;z-index:2;min-width:8em;max-width:8em;overflow:hidden;text-overflow:ellipsis}
.scroll th:nth-child(2),.scroll td:nth-child(2){position:sticky;left:calc(8em + 13px);z-index:2;min-width:9em;box-shadow:2px 0 0 #d0d7de}
.scroll th:nth-child(1),.scroll th:nth-child(2){z-index:3}
small.ci{color:#57606a;white-space:nowrap}.charts{display:flex;flex-wrap:wrap}
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

// Score (y) against trainable parameters (x, log10) for the current run. Labels sit in a
// column right of the plot, ordered by their point's height and pushed apart so no two
// overlap, each joined to its point by a thin line.
std::string scatter(const std::vector<const Row*>& rows) {
  const size_t xc = column_index("trainable_params"), yc = column_index("avg_normalized_score");
  struct Pt {
    double x, y;
    const Row* row;
    size_t colour;
  };
  std::vector<Pt> pts;
  for (const Row* r : rows)
    if (r->values[xc] && *r->values[xc] > 0 && r->values[yc])
      pts.push_back({std::log10(*r->values[xc]), *r->values[yc], r, pts.size()});
  if (pts.empty()) return "";  // nothing to draw
  const double label_gap = 13;
  const double height = std::max(320.0, 70 + label_gap * static_cast<double>(pts.size()));
  const double top = 40, bottom = height - 30;
  std::string s = "<svg width=\"700\" height=\"" + num(height) + "\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">"
                  "avg normalized score vs trainable parameters (log scale)</text>";
  double x0 = pts[0].x, x1 = x0, y0 = 0, y1 = 100;
  for (const Pt& p : pts) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  x0 = std::floor(x0), x1 = std::ceil(x1) + (std::ceil(x1) == std::floor(x0) ? 1 : 0);
  auto X = [&](double x) { return 70 + 360 * (x - x0) / (x1 - x0); };
  auto Y = [&](double y) { return bottom - (bottom - top) * (y - y0) / (y1 - y0); };
  for (double e = x0; e <= x1; ++e)
    s += "<line x1=\"" + num(X(e)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(X(e)) + "\" y2=\"" + num(bottom) +
         "\" stroke=\"#eee\"/><text x=\"" + num(X(e) - 10) + "\" y=\"" + num(bottom + 15) + "\" font-size=\"10\">1e" +
         num(e) + "</text>";
  for (double v : {0.0, 50.0, 100.0})
    s += "<text x=\"22\" y=\"" + num(Y(v) + 3) + "\" font-size=\"10\">" + num(v) + "</text>";
  s += "<line x1=\"50\" y1=\"" + num(bottom) + "\" x2=\"450\" y2=\"" + num(bottom) + "\" stroke=\"#999\"/><line x1=\"50\" y1=\"" +
       num(top) + "\" x2=\"50\" y2=\"" + num(bottom) + "\" stroke=\"#999\"/>";
  // Label slots: sorted by the point's screen y, each at least label_gap below the last,
  // then shifted up as a block if the last ran past the bottom.
  std::vector<size_t> order(pts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return Y(pts[a].y) < Y(pts[b].y); });
  std::vector<double> slot(pts.size());
  double last = -1e9;
  for (size_t i : order) last = slot[i] = std::max(Y(pts[i].y), last + label_gap);
  const double overflow = last - (height - 8);
  if (overflow > 0)
    for (double& v : slot) v -= overflow;
  for (size_t i : order) {
    const Pt& p = pts[i];
    const std::string colour = kPalette[p.colour % 10];
    const double x = X(p.x), y = Y(p.y);
    s += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"5\" fill=\"" + colour + "\"><title>" +
         html_escape(p.row->model + " / " + p.row->strategy) + "</title></circle><line x1=\"" + num(x + 5) + "\" y1=\"" +
         num(y) + "\" x2=\"468\" y2=\"" + num(slot[i] - 3) + "\" stroke=\"" + colour + "\" stroke-width=\"0.5\"/>" +
         "<text x=\"472\" y=\"" + num(slot[i]) + "\" font-size=\"10\" fill=\"" + colour + "\">" +
         html_escape(shorten(p.row->strategy, 32)) + "</text>";
  }
  return s + "</svg>";
}

// One column across the current rows as horizontal bars, in the column's unit, with the
// 95 % interval as a whisker where known. Nothing when no row has the value.
std::string bars(const std::vector<const Row*>& rows, const char* column, const std::string& title) {
  const size_t c = column_index(column);
  const Unit unit = leaderboard_columns()[c].unit;
  double vmax = 0;
  size_t n = 0;
  for (const Row* r : rows)
    if (r->values[c]) {
      ++n;
      vmax = std::max(vmax, *r->values[c]);
      if (r->intervals[c]) vmax = std::max(vmax, r->intervals[c]->hi);
    }
  if (n == 0) return "";
  std::string s = "<svg width=\"640\" height=\"" + num(40 + 18.0 * static_cast<double>(n)) +
                  "\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">" + html_escape(title) + "</text>";
  auto W = [vmax](double v) { return vmax > 0 ? 300 * std::max(0.0, v) / vmax : 0.0; };
  double y = 30;
  for (const Row* r : rows) {
    if (!r->values[c]) continue;
    const double w = W(*r->values[c]);
    s += "<text x=\"10\" y=\"" + num(y + 11) + "\" font-size=\"10\">" + html_escape(shorten(r->model + "/" + r->strategy, 30)) +
         "</text><rect x=\"200\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"13\" fill=\"#0969da\"/>";
    double text_x = 205 + w;
    if (const auto& iv = r->intervals[c]) {
      const double a = 200 + W(iv->lo), b = 200 + W(iv->hi);
      s += "<line x1=\"" + num(a) + "\" y1=\"" + num(y + 6.5) + "\" x2=\"" + num(b) + "\" y2=\"" + num(y + 6.5) +
           "\" stroke=\"#1b1f24\"/><line x1=\"" + num(a) + "\" y1=\"" + num(y + 2) + "\" x2=\"" + num(a) + "\" y2=\"" +
           num(y + 11) + "\" stroke=\"#1b1f24\"/><line x1=\"" + num(b) + "\" y1=\"" + num(y + 2) + "\" x2=\"" + num(b) +
           "\" y2=\"" + num(y + 11) + "\" stroke=\"#1b1f24\"/>";
      text_x = std::max(text_x, b + 5);
    }
    s += "<text x=\"" + num(text_x) + "\" y=\"" + num(y + 11) + "\" font-size=\"10\">" + human_value(*r->values[c], unit) +
         "</text>";
    y += 18;
  }
  return s + "</svg>";
}

// One metric across runs: a line (and a dot per night) per (model, strategy). Nothing
// when fewer than two nights have the metric: a single point is no trend.
std::string trend(const ReportInputs& in, size_t col) {
  std::map<std::string, std::vector<std::pair<size_t, double>>> series;
  std::map<std::string, size_t> run_index;
  for (size_t i = 0; i < in.runs->size(); ++i) run_index[(*in.runs)[i].run_id] = i;
  std::set<size_t> nights;
  double lo = INFINITY, hi = -INFINITY;
  for (const Row& r : *in.rows)
    if (r.values[col]) {
      series[r.model + " / " + r.strategy].emplace_back(run_index[r.run_id], *r.values[col]);
      nights.insert(run_index[r.run_id]);
      lo = std::min(lo, *r.values[col]), hi = std::max(hi, *r.values[col]);
    }
  if (nights.size() < 2) return "";
  const Column& c = leaderboard_columns()[col];
  std::string s = "<svg width=\"520\" height=\"210\" role=\"img\"><text x=\"10\" y=\"16\" font-size=\"12\">" +
                  html_escape(c.name) + " across nights</text>";
  if (hi == lo) hi = lo + 1;
  const double n_runs = std::max<double>(1, static_cast<double>(in.runs->size()) - 1);
  auto X = [n_runs](size_t i) { return 40 + 460 * static_cast<double>(i) / n_runs; };
  auto Y = [lo, hi](double v) { return 180 - 150 * (v - lo) / (hi - lo); };
  size_t k = 0;
  for (const auto& [name, pts] : series) {
    const std::string colour = kPalette[k++ % 10];
    std::string path, dots;
    for (const auto& [i, v] : pts) {
      path += (path.empty() ? "M" : " L") + num(X(i)) + " " + num(Y(v));
      dots += "<circle cx=\"" + num(X(i)) + "\" cy=\"" + num(Y(v)) + "\" r=\"2.5\" fill=\"" + colour + "\"/>";
    }
    s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\"><title>" +
         html_escape(name) + "</title></path>" + dots;
  }
  s += "<text x=\"40\" y=\"200\" font-size=\"10\">" + human_value(lo, c.unit) + " .. " + human_value(hi, c.unit) + " over " +
       std::to_string(nights.size()) + " nights, oldest left</text>";
  return s + "</svg>";
}

std::string th(const std::string& text, const std::string& title = "") {
  return "<th" + (title.empty() ? std::string() : " title=\"" + html_escape(title) + "\"") + ">" + html_escape(text) + "</th>";
}

std::string td_text(const std::string& text) { return "<td class=\"t\">" + html_escape(text) + "</td>"; }

// What a strategy's answer is compared on: the parse the metric saw, else the raw text.
const std::string& answer_key(const Sample& s) { return s.parsed.empty() ? s.answer : s.parsed; }

const char* kBrowserScript = R"(<script>
document.querySelectorAll('input[name=sample-filter]').forEach(function(r){
  r.addEventListener('change', function(){
    document.querySelectorAll('#samples tbody tr').forEach(function(tr){
      tr.style.display = (r.value === 'all' || tr.dataset[r.value] === '1') ? '' : 'none';
    });
  });
});
</script>)";

// The sample browser's section: filters, then a row per kept sample with its thumbnail
// (one CSS class per distinct image, so an image asked about twice is embedded once).
std::string sample_browser_section(const ReportInputs& in, const std::string& task, const std::vector<Flip>& flips) {
  if (!in.samples) return "";
  const SampleBrowser b = browse_samples(*in.samples, task, flips);
  if (b.rows.empty()) return "";
  size_t shown_disagree = 0, shown_flipped = 0;
  for (const BrowserRow& r : b.rows) shown_disagree += r.disagree, shown_flipped += r.flipped;
  std::string h = "<h2 id=\"sample-browser\">Samples (night " + html_escape(in.current->run_id) + ")</h2><p class=\"note\">" +
                  std::to_string(b.n_total) + " sample(s); the strategies disagree on " + std::to_string(b.n_disagree) +
                  (in.baseline ? ", " + std::to_string(b.n_flipped) + " changed answer since " + html_escape(in.baseline->run_id)
                               : std::string(", no previous night to compare with")) +
                  ". Shown: " + std::to_string(b.rows.size()) +
                  (b.rows.size() < b.n_total ? " (those first, then the rest in file order; every sample is in each "
                                               "strategy's samples.jsonl)" : std::string()) +
                  ".</p>\n<p class=\"filters\">Show: <label><input type=\"radio\" name=\"sample-filter\" value=\"all\" checked> all (" +
                  std::to_string(b.rows.size()) + ")</label> <label><input type=\"radio\" name=\"sample-filter\" value=\"disagree\"> "
                  "strategies disagree (" + std::to_string(shown_disagree) + ")</label> <label><input type=\"radio\" "
                  "name=\"sample-filter\" value=\"flipped\"" + (in.baseline ? "" : " disabled") + "> flipped since the baseline (" +
                  std::to_string(shown_flipped) + ")</label></p>\n";
  const Thumbnailer& make = in.thumbnail ? in.thumbnail : Thumbnailer(embed_small_image);
  std::map<std::string, std::string> image_class;  // path -> class name ("" where none could be made)
  std::string css;
  for (const BrowserRow& r : b.rows)
    for (const Sample* s : r.answers) {
      if (!s || s->image.empty() || image_class.count(s->image)) continue;
      const std::optional<Thumbnail> t = make(s->image);
      std::string cls;
      if (t && !t->bytes.empty()) {
        cls = "im" + std::to_string(image_class.size());
        css += "." + cls + "{background-image:url(data:" + html_escape(t->mime) + ";base64," + base64(t->bytes) + ")}\n";
      }
      image_class[s->image] = cls;
    }
  h += "<style>.thumb{width:96px;height:96px;background-size:contain;background-repeat:no-repeat;background-position:center}\n" +
       css + "</style>\n<div class=\"scroll\"><table id=\"samples\"><thead><tr>" + th("image") + th("sample") + th("question") +
       th("ground truth");
  for (const std::string& s : b.strategies) h += th(s, "answer (parsed form in the tooltip)");
  h += "</tr></thead><tbody>\n";
  for (const BrowserRow& r : b.rows) {
    const Sample* first = nullptr;
    for (const Sample* s : r.answers) first = first ? first : s;
    h += "<tr data-disagree=\"" + std::string(r.disagree ? "1" : "0") + "\" data-flipped=\"" + (r.flipped ? "1" : "0") + "\">";
    const auto cls = first && !first->image.empty() ? image_class.find(first->image) : image_class.end();
    if (cls != image_class.end() && !cls->second.empty())
      h += "<td><div class=\"thumb " + cls->second + "\" role=\"img\" title=\"" + html_escape(first->image) + "\"></div></td>";
    else
      h += "<td class=\"t\" title=\"" + html_escape(first ? first->image : "") + "\">" + kMissing + "</td>";
    h += "<td class=\"t\">" + html_escape(r.model) + "<br>" + html_escape(r.id) +
         (first && !first->split.empty() ? "<br><small>" + html_escape(first->split) + "</small>" : "") + "</td>";
    h += td_text(shorten(first ? first->question : "", 300)) + td_text(shorten(first ? first->reference : "", 300));
    for (size_t k = 0; k < r.answers.size(); ++k) {
      const Sample* s = r.answers[k];
      if (!s) {
        h += std::string("<td>") + kMissing + "</td>";
        continue;
      }
      const char* mark = s->correct ? (*s->correct ? " ok" : " bad") : "";
      h += "<td class=\"t" + std::string(mark) + "\" title=\"parsed: " + html_escape(s->parsed) + "\">" +
           html_escape(shorten(s->answer, 200));
      if (s->score && !s->correct) h += " <small>(" + num(*s->score, 3) + ")</small>";
      if (!r.before[k].empty()) h += "<br><small>was: " + html_escape(shorten(r.before[k], 80)) + "</small>";
      h += "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table></div>" + kBrowserScript + "\n";
}

}  // namespace

std::optional<Thumbnail> embed_small_image(const std::filesystem::path& image) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(image, ec);
  if (ec || size == 0 || size > kMaxEmbeddedImageBytes) return std::nullopt;
  std::ifstream in(image, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return std::nullopt;
  auto starts = [&bytes](std::string_view magic) { return bytes.compare(0, magic.size(), magic) == 0; };
  if (starts("\x89PNG\r\n\x1a\n")) return Thumbnail{"image/png", std::move(bytes)};
  if (starts("\xff\xd8\xff")) return Thumbnail{"image/jpeg", std::move(bytes)};
  if (starts("GIF87a") || starts("GIF89a")) return Thumbnail{"image/gif", std::move(bytes)};
  if (bytes.size() >= 12 && starts("RIFF") && bytes.compare(8, 4, "WEBP") == 0) return Thumbnail{"image/webp", std::move(bytes)};
  return std::nullopt;
}

SampleBrowser browse_samples(const RunSamples& samples, const std::string& task, const std::vector<Flip>& flips,
                             size_t cap) {
  SampleBrowser b;
  for (const auto& [key, list] : samples)
    if (key.task == task && std::find(b.strategies.begin(), b.strategies.end(), key.strategy) == b.strategies.end())
      b.strategies.push_back(key.strategy);
  std::sort(b.strategies.begin(), b.strategies.end());
  std::map<std::pair<std::string, std::string>, size_t> row_of;  // (model, id) -> row
  std::vector<BrowserRow> all;
  for (const auto& [key, list] : samples) {
    if (key.task != task) continue;
    const size_t k = static_cast<size_t>(std::find(b.strategies.begin(), b.strategies.end(), key.strategy) - b.strategies.begin());
    for (const Sample& s : list) {
      const auto [it, fresh] = row_of.emplace(std::make_pair(key.model, s.id), all.size());
      if (fresh) {
        all.push_back({key.model, s.id, false, false, std::vector<const Sample*>(b.strategies.size(), nullptr),
                       std::vector<std::string>(b.strategies.size())});
      }
      all[it->second].answers[k] = &s;
    }
  }
  for (const Flip& f : flips) {
    const auto it = row_of.find({f.model, f.id});
    if (it == row_of.end()) continue;
    BrowserRow& r = all[it->second];
    const size_t k = static_cast<size_t>(std::find(b.strategies.begin(), b.strategies.end(), f.strategy) - b.strategies.begin());
    if (k == b.strategies.size()) continue;
    r.flipped = true;
    r.before[k] = f.before;
  }
  for (BrowserRow& r : all) {
    const Sample* first = nullptr;
    for (const Sample* s : r.answers)
      if (s) {
        if (first && answer_key(*s) != answer_key(*first)) r.disagree = true;
        first = first ? first : s;
      }
    b.n_disagree += r.disagree;
    b.n_flipped += r.flipped;
  }
  b.n_total = all.size();
  std::vector<bool> keep(all.size(), false);
  size_t kept = 0;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < all.size() && kept < cap; ++i)
      if (!keep[i] && (pass == 1 || all[i].disagree || all[i].flipped)) keep[i] = true, ++kept;
  for (size_t i = 0; i < all.size(); ++i)
    if (keep[i]) b.rows.push_back(std::move(all[i]));
  return b;
}

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
  h += "<h1>lnbench report</h1><p class=\"note\">" + std::to_string(in.runs->size()) + " night(s). Newest: <b>" +
       html_escape(in.current->run_id) + "</b> (" + html_escape(in.current->date) + ", git " +
       html_escape(in.current->git_sha) + ", protocol " + html_escape(in.current->protocol) + ")";
  if (in.baseline) h += "; baseline: <b>" + html_escape(in.baseline->run_id) + "</b> (" + html_escape(in.baseline->date) + ")";
  h += "</p>\n";
  std::set<std::string> tasks;
  for (const Cell& c : in.current->cells)
    for (const auto& [t, r] : c.tasks) tasks.insert(t);
  h += "<p>Task pages: ";
  for (const std::string& t : tasks) h += "<a href=\"" + html_escape(task_page_name(t)) + "\">" + html_escape(t) + "</a> ";
  h += "</p>\n<h2>Leaderboard (newest night)</h2>\n<div class=\"scroll\"><table class=\"sortable\"><thead><tr>" + th("model") +
       th("strategy");
  for (const Column& c : cols) h += th(c.name, c.description);
  h += "</tr></thead><tbody>\n";
  std::vector<const Row*> current_rows;
  for (const Row& r : *in.rows)
    if (r.run_id == in.current->run_id) current_rows.push_back(&r);
  for (const Row* r : current_rows) {
    // A checkpoint trained elsewhere says so: its kind beside its name.
    const std::string src = r->source.empty() ? "" : " <small title=\"checkpoint trained elsewhere\">(" + html_escape(r->source) + ")</small>";
    h += "<tr><td class=\"t\" title=\"" + html_escape(r->model) + "\">" + html_escape(r->model) + "</td><td class=\"t\">" +
         html_escape(r->strategy) + src + "</td>";
    for (size_t k = 0; k < cols.size(); ++k) h += value_cell(r->values[k], r->intervals[k], cols[k].unit);
    h += "</tr>\n";
  }
  h += "</tbody></table></div><p class=\"note\">Click a header to sort; hover it for its definition "
       "(docs/results_store.md documents leaderboard.csv). Below a score: its 95 % interval over the evaluated samples "
       "(Wilson for accuracies, a seeded bootstrap for graded scores; each task page says how). "
       "&mdash;: the row's tasks do not have that metric.</p>\n";
  std::string score_charts;
  for (const Column& c : cols)
    if (c.has_interval && (c.score || std::string(c.name) == "pope_f1_random"))
      score_charts += bars(current_rows, c.name, std::string(c.name) + " with 95 % intervals");
  if (!score_charts.empty()) h += "<h2>Scores with 95 % intervals</h2>\n<div class=\"charts\">" + score_charts + "</div>\n";
  const std::string per_param = scatter(current_rows) +
                                bars(current_rows, "peak_train_memory_bytes", "peak training memory per strategy") +
                                bars(current_rows, "trainable_params", "trainable parameters per strategy");
  if (!per_param.empty()) h += "<h2>Score per trainable parameter and per GiB</h2>\n<div class=\"charts\">" + per_param + "</div>\n";

  if (!in.seed_spreads.empty()) {
    h += "<h2>Seed spread (newest night)</h2>\n<p class=\"note\">Strategies trained once per seed (train.seeds): each "
         "score's mean, standard deviation and range across the seeds, beside the mean 95 % within-sample interval "
         "half-width. <i>larger</i>: which moves the score more, the training seed (standard deviation above the "
         "within-sample standard error) or which samples were drawn. seed_spread.csv has the numbers.</p>"
         "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>" + th("model") + th("strategy") + th("metric") +
         th("seeds") + th("mean") + th("sd") + th("range") + th("sampling ±95 %") + th("larger") + "</tr></thead><tbody>\n";
    for (const SeedSpread& s : in.seed_spreads) {
      const Unit u = leaderboard_columns()[column_index(s.column)].unit;
      h += "<tr>" + td_text(s.model) + td_text(s.strategy) + td_text(s.column) + "<td data-v=\"" +
           std::to_string(s.cells.size()) + "\">" + std::to_string(s.cells.size()) + "</td>" + value_cell(s.mean, std::nullopt, u) +
           value_cell(s.sd, std::nullopt, u) + "<td>" + range_text({s.min, s.max}, u) + "</td>" +
           value_cell(s.sampling_half_width, std::nullopt, u) + td_text(s.larger.empty() ? "-" : s.larger) + "</tr>\n";
    }
    h += "</tbody></table></div>\n";
  }
  h += "<h2>Which differences are real (newest night)</h2>\n";
  if (in.pairwise.empty()) {
    h += "<p class=\"note\">No two strategies of one model answered the same samples.</p>\n";
  } else {
    size_t real = 0;
    for (const Pairwise& p : in.pairwise) real += p.verdict != "not distinguishable";
    h += "<p class=\"note\">Every pair of strategies of one model, per task, on the samples both answered: McNemar's exact "
         "test on per-sample correctness (MME, POPE) or a two-sided paired bootstrap of the per-sample score (" +
         std::to_string(in.options.bootstrap_resamples) + " resamples), p Holm-adjusted over the pairs of each task. <b>" +
         std::to_string(real) + " of " + std::to_string(in.pairwise.size()) + "</b> pairs differ at p<sub>Holm</sub> &lt; " +
         num(in.options.pairwise_alpha) + "; the rest are not distinguishable on these samples. pairwise.csv has them all.</p>"
         "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>" + th("task") + th("verdict") + th("model") + th("a") +
         th("b") + th("test") + th("paired") + th("p") + th("p (Holm)") + "</tr></thead><tbody>\n";
    for (const Pairwise& p : in.pairwise) {
      const bool differs = p.verdict != "not distinguishable";
      h += "<tr>" + td_text(p.task) + "<td class=\"t" + (differs ? " ok" : "") + "\">" + html_escape(p.verdict) + "</td>" +
           td_text(p.model) + "<td data-v=\"" + num(p.a_value, 17) + "\" class=\"t\">" + html_escape(p.a) + " (" +
           num(p.a_value, 4) + ")</td><td data-v=\"" + num(p.b_value, 17) + "\" class=\"t\">" + html_escape(p.b) + " (" +
           num(p.b_value, 4) + ")</td>" + td_text(p.test) + "<td data-v=\"" + std::to_string(p.n_paired) + "\">" +
           std::to_string(p.n_paired) + "</td><td data-v=\"" + num(p.p_value, 17) + "\">" + num(p.p_value, 3) +
           "</td><td data-v=\"" + num(p.p_holm, 17) + "\">" + num(p.p_holm, 3) + "</td></tr>\n";
    }
    h += "</tbody></table></div>\n";
  }

  h += "<h2>Regressions against the baseline</h2>\n";
  if (!in.baseline) {
    h += "<p class=\"note\">No baseline night yet (the store holds one night): regressions appear from the second.</p>\n";
  } else {
    h += "<p class=\"note\">McNemar exact test (MME, POPE) or paired bootstrap (" +
         std::to_string(in.options.bootstrap_resamples) + " resamples, seed " + std::to_string(in.options.seed) +
         ") on samples paired by id; regression when p &lt; " + num(in.options.alpha) + " and the drop is at least " +
         num(in.options.min_delta) + ".</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr>" + th("model") +
         th("strategy") + th("task") + th("test") + th("paired") + th("baseline") + th("current") + th("p") + th("verdict") +
         "</tr></thead><tbody>\n";
    for (const Regression& r : in.regressions)
      h += "<tr>" + td_text(r.model) + td_text(r.strategy) + td_text(r.task) + td_text(r.test) + "<td data-v=\"" +
           std::to_string(r.n_paired) + "\">" + std::to_string(r.n_paired) + "</td><td data-v=\"" + num(r.baseline, 17) +
           "\">" + num(r.baseline, 5) + "</td><td data-v=\"" + num(r.current, 17) + "\">" + num(r.current, 5) +
           "</td><td data-v=\"" + num(r.p_value, 17) + "\">" + num(r.p_value, 3) + "</td><td class=\"" +
           (r.regressed ? "bad\">REGRESSED" : "ok\">ok") + "</td></tr>\n";
    h += "</tbody></table></div>\n";
  }
  std::string trends;
  for (size_t c = 0; c < cols.size(); ++c)
    if (cols[c].score || std::string(cols[c].name) == "avg_normalized_score") trends += trend(in, c);
  h += "<h2>Trends</h2>\n";
  h += trends.empty() ? "<p class=\"note\">One night so far: trends start with the second.</p>\n"
                      : "<div class=\"charts\">" + trends + "</div>\n";
  return h + kScript + "</body></html>\n";
}

std::string render_task_page(const ReportInputs& in, const std::string& task, const std::vector<Flip>& flips) {
  std::string h = page_head("lnbench: " + task);
  h += "<h1>Task " + html_escape(task) + "</h1><p><a href=\"index.html\">back to the leaderboard</a></p>\n";
  // The pivot: a row per (model, strategy), a column per (split, metric), values first.
  struct Key {
    std::string split, name;
    bool operator<(const Key& o) const { return std::tie(split, name) < std::tie(o.split, o.name); }
  };
  std::vector<Key> columns;
  std::set<Key> seen;
  const TaskResult* any = nullptr;
  std::vector<std::pair<const Cell*, const TaskResult*>> rows;
  for (const Cell& c : in.current->cells) {
    const auto t = c.tasks.find(task);
    if (t == c.tasks.end()) continue;
    any = &t->second;
    rows.emplace_back(&c, &t->second);
    for (const auto& [name, v] : t->second.values)
      if (seen.insert({"", name}).second) columns.push_back({"", name});
  }
  for (const auto& [c, t] : rows)
    for (const auto& [split, vals] : t->splits)
      for (const auto& [name, v] : vals)
        if (seen.insert({split, name}).second) columns.push_back({split, name});
  std::stable_sort(columns.begin(), columns.end(), [](const Key& a, const Key& b) {
    return !a.split.empty() && !b.split.empty() ? a.split < b.split : a.split.empty() > b.split.empty();
  });
  h += "<h2>Scores (night " + html_escape(in.current->run_id) + ")</h2><div class=\"scroll\"><table class=\"sortable\">"
       "<thead><tr>" + th("model") + th("strategy");
  for (const Key& k : columns) h += th(k.split.empty() ? k.name : k.split + " " + k.name, k.split.empty() ? "overall" : "split " + k.split);
  h += "</tr></thead><tbody>\n";
  for (const auto& [c, t] : rows) {
    h += "<tr>" + td_text(c->model) + td_text(c->strategy);
    for (const Key& k : columns) {
      h += value_cell(t->value(k.split, k.name), t->interval(k.split, k.name), Unit::kScore);
    }
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
  if (any) {
    if (!any->interval_method.empty())
      h += "<p class=\"note\">Below a value: its 95 % interval (" + html_escape(any->interval_method) + ").</p>";
    h += "<h2>Metric definitions</h2><table><tbody>";
    for (const auto& [k, v] : any->definitions)
      h += "<tr><td class=\"t\">" + html_escape(k) + "</td><td class=\"t\">" + html_escape(v) + "</td></tr>";
    h += "</tbody></table><p class=\"note\">fingerprint " + html_escape(any->fingerprint) + "</p>";
    h += "<h2>Prompt asset</h2><pre>" + html_escape(any->prompt_asset) + "</pre>\n";
  }
  h += sample_browser_section(in, task, flips);
  h += "<h2>Flips against " + (in.baseline ? html_escape(in.baseline->run_id) : std::string("(no previous night)")) +
       "</h2><p class=\"note\">" + std::to_string(flips.size()) + " sample(s) changed answer";
  const size_t shown = std::min<size_t>(flips.size(), 500);
  if (shown < flips.size()) h += "; the first " + std::to_string(shown) + " are listed";
  h += ".</p>";
  if (shown == 0) return h + kScript + "</body></html>\n";
  h += "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>" + th("model") + th("strategy") + th("id") + th("prompt") +
       th("before") + th("after") + "</tr></thead><tbody>\n";
  for (size_t i = 0; i < shown; ++i) {
    const Flip& f = flips[i];
    h += "<tr>" + td_text(f.model) + td_text(f.strategy) + td_text(f.id) + td_text(f.prompt) + td_text(f.before) +
         td_text(f.after) + "</tr>\n";
  }
  return h + "</tbody></table></div>" + kScript + "</body></html>\n";
}

}  // namespace lnb::reports
