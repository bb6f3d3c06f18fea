// The report in headless Chromium: a results tree full of hostile strings (script
// tags, quotes, event attributes, bidi controls) must render without executing any
// of them, and the page must not be blank. Skips, with a message, only where no
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

// Each payload, if it ever ran, would mark the document.
const std::string kMark = "document.documentElement.setAttribute('data-pwned','1')";
const std::string kHostile = "<script>" + kMark + "</script>\"'><img src=x onerror=\"" + kMark + "\">"
                             "<svg onload=" + kMark + "> javascript:" + kMark + " \xE2\x80\xAE\xF0\x9F\x98\x80&amp;";

TEST(Browser, HostileStringsDoNotExecuteAndThePageIsNotBlank) {
  const std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium): browser test skipped";
  const fs::path root = fs::temp_directory_path() / "lnb_browser_test";
  fs::remove_all(root);
  test::FixtureOptions o;
  o.n_runs = 2;
  o.n_samples = 20;
  o.regress_last = 0.5;  // flips appear on the task pages, with hostile prompts and answers
  o.hostile = kHostile;
  o.model = "model<img src=x onerror=" + kMark + ">";  // a folder name is a results string too
  o.strategies = {"ln\"><img src=x onerror=\"" + kMark + "\">", "lora"};  // no '/': it is a folder name
  test::write_store(root, o);
  const fs::path out = root / "report";
  write_report({root, out, "", {}});

  for (const char* page : {"index.html", "task_pope.html", "task_coco.html"}) {
    const fs::path dom = root / (std::string(page) + ".dom");
    ASSERT_EQ(chromium(exe, root / "profile", "--virtual-time-budget=3000 --dump-dom file://" + (out / page).string() +
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
  const fs::path shot = fs::path(LNB_BINARY_DIR) / "report_screenshot.png", blank = root / "blank.png";
  ASSERT_EQ(chromium(exe, root / "profile", "--window-size=1280,1000 --screenshot=" + shot.string() + " file://" +
                                                (out / "index.html").string()), 0);
  ASSERT_EQ(chromium(exe, root / "profile", "--window-size=1280,1000 --screenshot=" + blank.string() +
                                                " 'data:text/html,<html><body></body></html>'"), 0);
  const auto shot_size = fs::file_size(shot), blank_size = fs::file_size(blank);
  EXPECT_GT(shot_size, 4 * blank_size) << "screenshot " << shot << " looks blank";
}

// The layout at 1400 px, measured in the page by a test-made wrapper that loads the report
// in a same-origin frame: the page never scrolls sideways (the leaderboard scrolls in its
// own box), no two texts of a chart overlap, and no chart is drawn without marks.
TEST(Browser, ReportFitsAt1400PixelsWithoutOverlapsOrEmptyCharts) {
  const std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium): browser test skipped";
  const fs::path root = fs::temp_directory_path() / "lnb_browser_layout";
  fs::remove_all(root);
  test::FixtureOptions o;
  o.n_runs = 2;  // two nights: trends and the regression table are drawn
  o.n_samples = 60;
  o.intervals = true;
  o.strategies = {"connector", "ln", "ln-simple", "lora", "full", "adapter", "adapter+ln", "prefix", "bitfit", "mam"};
  test::write_store(root, o);
  const fs::path out = root / "report";
  write_report({root, out, "", {}});
  std::ofstream(out / "layout_probe.html") << R"(<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="index.html" style="width:1400px;height:4000px;border:0"></iframe><pre id="result">pending</pre>
<script>
document.getElementById('f').onload = function () {
  var r = [];
  try {
    var d = this.contentDocument, overlaps = 0, empty = 0, svgs = d.querySelectorAll('svg');
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
           'board_scrolls=' + (scroller.scrollWidth > scroller.clientWidth ? 1 : 0));
  } catch (e) { r.push('error=' + e); }
  document.getElementById('result').textContent = r.join(' ');
};
</script></body></html>)";
  const fs::path dom = root / "probe.dom";
  ASSERT_EQ(chromium(exe, root / "profile", "--allow-file-access-from-files --window-size=1400,1000 "
                                            "--virtual-time-budget=5000 --dump-dom file://" +
                                                (out / "layout_probe.html").string() + " > " + dom.string()), 0);
  const std::string text = slurp(dom);
  const size_t at = text.find("<pre id=\"result\">");
  ASSERT_NE(at, std::string::npos) << text.substr(0, 2000);
  const std::string result = text.substr(at, text.find("</pre>", at) - at);
  SCOPED_TRACE(result);
  EXPECT_EQ(result.find("error="), std::string::npos);
  auto field = [&result](const std::string& key) {
    const size_t k = result.find(key + "=");
    return k == std::string::npos ? -1L : std::stol(result.substr(k + key.size() + 1));
  };
  EXPECT_GE(field("docwidth"), 1);
  EXPECT_LE(field("docwidth"), 1400) << "the page scrolls sideways";
  EXPECT_EQ(field("overlaps"), 0) << "chart texts overlap";
  EXPECT_EQ(field("empty"), 0) << "a chart without marks";
  EXPECT_GE(field("svgs"), 8);                    // score bars, scatter, memory, parameters, trends
  EXPECT_EQ(field("board_scrolls"), 1);           // 30 columns do not fit 1400 px: the box scrolls
  // A screenshot a person can look at (kept in the build tree).
  const fs::path shot = fs::path(LNB_BINARY_DIR) / "report_1400.png";
  ASSERT_EQ(chromium(exe, root / "profile", "--window-size=1400,2600 --screenshot=" + shot.string() + " file://" +
                                                (out / "index.html").string()), 0);
  EXPECT_GT(fs::file_size(shot), 20000u);
}

}  // namespace
}  // namespace lnb::reports
