// The report in headless Chromium: a results tree full of hostile strings (script
// tags, quotes, event attributes, bidi controls) must render without executing any
// of them, the page must not be blank, its layout fits 1400 px, and the sample
// browser's filters and thumbnails work. Skips, with a message, only where no
// Chromium is installed (scripts/lnb installs Debian's `chromium`).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "reports/report.h"
#include "store_fixture.h"

namespace lnb::reports {
namespace {

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return "";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int chromium(const std::string& exe, const fs::path& profile, const std::string& args) {
  const std::string cmd = "timeout 120 " + exe + " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                          "--no-first-run --user-data-dir=" + profile.string() + " " + args + " 2>/dev/null";
  return std::system(cmd.c_str());
}

// A results store written by `o` into a fresh folder under the temp dir, reported into
// its report/ folder; the test skips where no Chromium is installed.
struct BrowserCase {
  std::string exe;
  fs::path root, out;
};
BrowserCase report_case(const std::string& name, const test::FixtureOptions& o) {
  BrowserCase c{find_chromium(), fs::temp_directory_path() / ("lnb_browser_" + name), {}};
  c.out = c.root / "report";
  if (c.exe.empty()) return c;
  fs::remove_all(c.root);
  test::write_store(c.root, o);
  write_report({c.root, c.out, "", {}});
  return c;
}
#define LNB_SKIP_WITHOUT_CHROMIUM(c) \
  if ((c).exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium): browser test skipped"

// Loads `page` of the report in a same-origin frame of a test-made wrapper at 1400 px and
// runs `measure` (JavaScript with `d`, the frame's document, pushing "key=value" strings
// onto `r`) once it has loaded; returns what it pushed, space-separated.
std::string probe(const BrowserCase& c, const std::string& page, const std::string& measure) {
  const fs::path wrapper = c.out / ("probe_" + page);
  std::ofstream(wrapper) << "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"" + page +
                                "\" style=\"width:1400px;height:4000px;border:0\"></iframe><pre id=\"result\">pending</pre>\n"
                                "<script>document.getElementById('f').onload = function () { var r = [];\n"
                                "try { var d = this.contentDocument;\n" + measure +
                                "\n} catch (e) { r.push('error=' + e); }\n"
                                "document.getElementById('result').textContent = r.join(' '); };</script></body></html>";
  const fs::path dom = c.root / ("probe_" + page + ".dom");
  if (chromium(c.exe, c.root / "profile", "--allow-file-access-from-files --window-size=1400,1000 --virtual-time-budget=5000 "
                                          "--dump-dom file://" + wrapper.string() + " > " + dom.string()) != 0)
    return "error=chromium";
  const std::string text = slurp(dom);
  const size_t at = text.find("<pre id=\"result\">");
  if (at == std::string::npos) return "error=no-result " + text.substr(0, 500);
  return text.substr(at + 17, text.find("</pre>", at) - at - 17);
}

// The value of "key=..." in a probe's result, or -1.
long field(const std::string& result, const std::string& key) {
  const std::string spaced = " " + result;
  const size_t k = spaced.find(" " + key + "=");
  return k == std::string::npos ? -1L : std::stol(spaced.substr(k + key.size() + 2));
}

// Each payload, if it ever ran, would mark the document.
const std::string kMark = "document.documentElement.setAttribute('data-pwned','1')";
const std::string kHostile = "<script>" + kMark + "</script>\"'><img src=x onerror=\"" + kMark + "\">"
                             "<svg onload=" + kMark + "> javascript:" + kMark + " \xE2\x80\xAE\xF0\x9F\x98\x80&amp;";

TEST(Browser, HostileStringsDoNotExecuteAndThePageIsNotBlank) {
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 20;
  o.regress_last = 0.5;  // flips appear on the task pages, with hostile prompts and answers
  o.hostile = kHostile;
  o.images_per_task = 4;  // the sample browser shows questions, references and images
  o.model = "model<img src=x onerror=" + kMark + ">";  // a folder name is a results string too
  o.strategies = {"ln\"><img src=x onerror=\"" + kMark + "\">", "lora"};  // no '/': it is a folder name
  const BrowserCase c = report_case("hostile", o);
  LNB_SKIP_WITHOUT_CHROMIUM(c);
  for (const char* page : {"index.html", "task_pope.html", "task_coco.html"}) {
    const fs::path dom = c.root / (std::string(page) + ".dom");
    ASSERT_EQ(chromium(c.exe, c.root / "profile", "--virtual-time-budget=3000 --dump-dom file://" + (c.out / page).string() +
                                                       " > " + dom.string()), 0) << page;
    const std::string text = slurp(dom);
    ASSERT_GT(text.size(), 1000u) << page << ": Chromium produced no DOM";
    EXPECT_EQ(text.find("data-pwned=\"1\""), std::string::npos) << page << ": a hostile string executed";
    EXPECT_EQ(text.find("<img src=\"x\""), std::string::npos) << page << ": a hostile tag became an element";
    EXPECT_NE(text.find("onerror="), std::string::npos) << page << ": the hostile text should still be shown, inert";
    EXPECT_EQ(text.find("\xE2\x80\xAE"), std::string::npos) << page << ": a bidi override reached the page";
  }
  // The rendered page against a blank one: a report full of tables and charts compresses
  // far worse than an empty white page.
  const fs::path shot = fs::path(LNB_BINARY_DIR) / "report_screenshot.png", blank = c.root / "blank.png";
  ASSERT_EQ(chromium(c.exe, c.root / "profile", "--window-size=1280,1000 --screenshot=" + shot.string() + " file://" +
                                                     (c.out / "index.html").string()), 0);
  ASSERT_EQ(chromium(c.exe, c.root / "profile", "--window-size=1280,1000 --screenshot=" + blank.string() +
                                                     " 'data:text/html,<html><body></body></html>'"), 0);
  EXPECT_GT(fs::file_size(shot), 4 * fs::file_size(blank)) << "screenshot " << shot << " looks blank";
}

// The layout at 1400 px: the page never scrolls sideways (the leaderboard scrolls in its
// own box), no two texts of a chart overlap, and no chart is drawn without marks.
TEST(Browser, ReportFitsAt1400PixelsWithoutOverlapsOrEmptyCharts) {
  test::FixtureOptions o;
  o.n_runs = 2;  // two nights: trends and the regression table are drawn
  o.n_samples = 60;
  o.intervals = true;
  o.strategies = {"connector", "ln", "ln-simple", "lora", "full", "adapter", "adapter+ln", "prefix", "bitfit", "mam"};
  const BrowserCase c = report_case("layout", o);
  LNB_SKIP_WITHOUT_CHROMIUM(c);
  const std::string result = probe(c, "index.html", R"(
    var overlaps = 0, empty = 0, svgs = d.querySelectorAll('svg');
    r.push('docwidth=' + d.documentElement.scrollWidth);
    svgs.forEach(function (svg) {
      var t = Array.prototype.slice.call(svg.querySelectorAll('text')).map(function (e) { return e.getBoundingClientRect(); });
      for (var i = 0; i < t.length; ++i)
        for (var j = i + 1; j < t.length; ++j)
          if (t[i].left < t[j].right - 0.5 && t[j].left < t[i].right - 0.5 &&
              t[i].top < t[j].bottom - 0.5 && t[j].top < t[i].bottom - 0.5) ++overlaps;
      if (svg.querySelectorAll('circle,rect,path').length === 0) ++empty;
    });
    var scroller = d.querySelector('div.scroll');
    r.push('overlaps=' + overlaps, 'empty=' + empty, 'svgs=' + svgs.length,
           'board_scrolls=' + (scroller.scrollWidth > scroller.clientWidth ? 1 : 0));)");
  SCOPED_TRACE(result);
  EXPECT_EQ(result.find("error="), std::string::npos);
  EXPECT_GE(field(result, "docwidth"), 1);
  EXPECT_LE(field(result, "docwidth"), 1400) << "the page scrolls sideways";
  EXPECT_EQ(field(result, "overlaps"), 0) << "chart texts overlap";
  EXPECT_EQ(field(result, "empty"), 0) << "a chart without marks";
  EXPECT_GE(field(result, "svgs"), 8);           // score bars, scatter, memory, parameters, trends
  EXPECT_EQ(field(result, "board_scrolls"), 1);  // 30 columns do not fit 1400 px: the box scrolls
  // A screenshot a person can look at (kept in the build tree).
  const fs::path shot = fs::path(LNB_BINARY_DIR) / "report_1400.png";
  ASSERT_EQ(chromium(c.exe, c.root / "profile", "--window-size=1400,2600 --screenshot=" + shot.string() + " file://" +
                                                     (c.out / "index.html").string()), 0);
  EXPECT_GT(fs::file_size(shot), 20000u);
}

// The sample browser as a reader uses it: each filter shows exactly the rows it names,
// every shown image is drawn from its embedded thumbnail, and the page fits 1400 px.
TEST(Browser, SampleBrowserFiltersAndDrawsItsThumbnails) {
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 80;
  o.regress_last = 0.3;
  o.tasks = {"pope", "vqav2"};
  o.images_per_task = 10;
  const BrowserCase c = report_case("samples", o);
  LNB_SKIP_WITHOUT_CHROMIUM(c);
  const std::string result = probe(c, "task_pope.html", R"(
    var rows = function () { return Array.prototype.slice.call(d.querySelectorAll('#samples tbody tr')); };
    var shown = function () { return rows().filter(function (tr) { return tr.offsetParent !== null; }).length; };
    var pick = function (v) { var i = d.querySelector('input[name=sample-filter][value=' + v + ']'); i.checked = true;
                              i.dispatchEvent(new Event('change')); return shown(); };
    var marked = function (k) { return rows().filter(function (tr) { return tr.dataset[k] === '1'; }).length; };
    r.push('rows=' + rows().length, 'all=' + shown(), 'disagree_rows=' + marked('disagree'), 'flipped_rows=' + marked('flipped'));
    r.push('disagree_shown=' + pick('disagree'), 'flipped_shown=' + pick('flipped'), 'all_again=' + pick('all'));
    var thumbs = Array.prototype.slice.call(d.querySelectorAll('#samples .thumb')), drawn = 0;
    thumbs.forEach(function (t) { var b = d.defaultView.getComputedStyle(t).backgroundImage, q = t.getBoundingClientRect();
                                  if (b.indexOf('url("data:image/') === 0 && q.width >= 90 && q.height >= 90) ++drawn; });
    r.push('thumbs=' + thumbs.length, 'drawn=' + drawn, 'docwidth=' + d.documentElement.scrollWidth);)");
  SCOPED_TRACE(result);
  EXPECT_EQ(result.find("error="), std::string::npos);
  EXPECT_EQ(field(result, "rows"), 60);  // kBrowserRows of 80
  EXPECT_EQ(field(result, "all"), 60);
  EXPECT_GT(field(result, "disagree_rows"), 0);
  EXPECT_GT(field(result, "flipped_rows"), 0);
  EXPECT_EQ(field(result, "disagree_shown"), field(result, "disagree_rows"));
  EXPECT_EQ(field(result, "flipped_shown"), field(result, "flipped_rows"));
  EXPECT_EQ(field(result, "all_again"), 60);
  EXPECT_GT(field(result, "thumbs"), 0);
  EXPECT_EQ(field(result, "drawn"), field(result, "thumbs")) << "a thumbnail that does not render";
  EXPECT_LE(field(result, "docwidth"), 1400) << "the page scrolls sideways";
  const fs::path shot = fs::path(LNB_BINARY_DIR) / "report_task_pope_1400.png";
  ASSERT_EQ(chromium(c.exe, c.root / "profile", "--window-size=1400,2400 --screenshot=" + shot.string() + " file://" +
                                                     (c.out / "task_pope.html").string()), 0);
  EXPECT_GT(fs::file_size(shot), 20000u);
}

}  // namespace
}  // namespace lnb::reports
