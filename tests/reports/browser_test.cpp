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

}  // namespace
}  // namespace lnb::reports
