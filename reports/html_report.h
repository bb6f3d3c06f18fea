// The self-contained HTML report: index.html (sortable leaderboard; charts of score
// against trainable parameters, peak memory per strategy and each metric's trend
// across nights; regressions) and one page per task (per-split numbers, metric
// definitions and prompt assets, flipped answers against the previous night).
// No network: inline CSS, SVG and JS, and a Content-Security-Policy that forbids
// loading anything. Every string from the results store goes through html_escape.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reports/leaderboard.h"
#include "reports/regression.h"
#include "reports/results_store.h"

namespace lnb::reports {

struct Flip {
  std::string model, strategy, id, prompt, before, after;
};

// Paired samples of `task` whose parsed answer (or raw answer) changed.
std::vector<Flip> find_flips(const std::vector<PairedTask>& paired, const std::string& task);

// An image as the page embeds it (a data: URI): its MIME type and bytes.
struct Thumbnail {
  std::string mime, bytes;
};
// Makes a small embeddable version of an image file, or nullopt when it cannot
// (unreadable, undecodable). lnbench's report command passes one that decodes and
// shrinks with OpenCV (harness/thumbnail.h); without one, embed_small_image is used.
using Thumbnailer = std::function<std::optional<Thumbnail>(const std::filesystem::path&)>;
// The file itself when it is a PNG, JPEG, GIF or WebP (by its magic bytes) of at most
// kMaxEmbeddedImageBytes; nullopt otherwise.
inline constexpr size_t kMaxEmbeddedImageBytes = 32 * 1024;
std::optional<Thumbnail> embed_small_image(const std::filesystem::path& image);

// The sample browser of one task page: the newest night's samples, a row per (model,
// sample id) with each strategy's answer. Rows where the strategies' parsed answers
// differ are "disagree"; rows where a strategy's answer changed since the baseline
// are "flipped". At most `cap` rows are kept: every disagreeing or flipped one first
// (file order), then the rest, so the page's size is bounded (thumbnails are made
// only for the kept rows).
struct BrowserRow {
  std::string model, id;
  bool disagree = false, flipped = false;
  std::vector<const Sample*> answers;  // parallel to SampleBrowser::strategies; null: none
  std::vector<std::string> before;     // the baseline's answer where it flipped, else ""
};
struct SampleBrowser {
  std::vector<std::string> strategies;
  std::vector<BrowserRow> rows;  // kept rows, file order
  size_t n_total = 0, n_disagree = 0, n_flipped = 0;  // over every sample, kept or not
};
inline constexpr size_t kBrowserRows = 60;
SampleBrowser browse_samples(const RunSamples& samples, const std::string& task, const std::vector<Flip>& flips,
                             size_t cap = kBrowserRows);

struct ReportInputs {
  const std::vector<Run>* runs = nullptr;  // sorted by date
  const std::vector<Row>* rows = nullptr;
  const Run* current = nullptr;            // the newest run
  const Run* baseline = nullptr;           // for regressions and flips; may be null
  std::vector<Regression> regressions;
  std::vector<Pairwise> pairwise;          // strategies compared within the current night
  std::vector<SeedSpread> seed_spreads;    // strategies trained with several seeds (current night)
  RegressionOptions options;
  const RunSamples* samples = nullptr;     // the current night's; null: no sample browser
  Thumbnailer thumbnail;                   // empty: embed_small_image
};

std::string render_index(const ReportInputs& in);
std::string render_task_page(const ReportInputs& in, const std::string& task, const std::vector<Flip>& flips);

// A file-name-safe form of a task name ("task_<name>.html").
std::string task_page_name(const std::string& task);

}  // namespace lnb::reports
