// `lnbench report RESULTS_ROOT [--out DIR] [--baseline RUN_ID] [--fail-on-regression]`.
// Torch-free: runs in the lnbench executable without loading LibTorch.
#include <dlfcn.h>

#include <cstdlib>
#include <iostream>

#include "harness/cli.h"
#include "harness/plugin_path.h"
#include "reports/report.h"
#include "reports/results_store.h"

namespace lnb::harness {

namespace {

// The sample browser's thumbnails: liblnbench_images.so (OpenCV), loaded on the first
// image; where it cannot be loaded, the report embeds small images as they are.
reports::Thumbnailer opencv_thumbnailer() {
  return [](const std::filesystem::path& image) -> std::optional<reports::Thumbnail> {
    using Make = int (*)(const char*, int, unsigned char**, size_t*);
    using Free = void (*)(unsigned char*);
    static Make make = nullptr;
    static Free release = nullptr;
    static bool tried = false;
    if (!tried) {
      tried = true;
      const std::filesystem::path lib = plugin_path("liblnbench_images.so", "LNB_IMAGE_PLUGIN");
      if (void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        make = reinterpret_cast<Make>(dlsym(h, "lnb_thumbnail"));
        release = reinterpret_cast<Free>(dlsym(h, "lnb_thumbnail_free"));
      }
      if (!make || !release) {
        make = nullptr;
        std::cerr << "lnbench report: no thumbnails (" << lib.string() << " not loadable); images up to "
                  << reports::kMaxEmbeddedImageBytes / 1024 << " KiB are embedded as they are\n";
      }
    }
    if (!make) return reports::embed_small_image(image);
    unsigned char* bytes = nullptr;
    size_t n = 0;
    if (make(image.c_str(), 96, &bytes, &n) != 0) return std::nullopt;
    reports::Thumbnail t{"image/jpeg", std::string(reinterpret_cast<const char*>(bytes), n)};
    release(bytes);
    return t;
  };
}

}  // namespace

void register_report(CLI::App& app, int& exit_code) {
  static reports::ReportOptions opt;
  static bool fail_on_regression = false;
  CLI::App* cmd = app.add_subcommand("report", "Leaderboard CSV and a self-contained HTML report from a results store");
  cmd->add_option("results_root", opt.root, "The results store (folder of runs)")->required();
  cmd->add_option("--out", opt.out, "Output folder (default: RESULTS_ROOT/report)");
  cmd->add_option("--baseline", opt.baseline_run_id, "Run to compare against (default: the run before the newest)");
  cmd->add_flag("--fail-on-regression", fail_on_regression, "Exit 4 when a statistically judged regression is found");
  cmd->add_option("--alpha", opt.regression.alpha, "Significance level of the regression tests (default 0.01)")
      ->check(CLI::Range(1e-12, 0.5));
  cmd->add_option("--min-delta", opt.regression.min_delta,
                  "Smallest drop that counts: absolute for accuracies, relative for graded scores (default 0.005)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--bootstrap-resamples", opt.regression.bootstrap_resamples, "Paired bootstrap resamples (default 2000)")
      ->check(CLI::Range(1, 10000000));
  cmd->callback([&exit_code] {
    if (opt.out.empty()) opt.out = opt.root / "report";
    try {
      const reports::ReportSummary s = reports::write_report(opt, opencv_thumbnailer());
      std::cout << "lnbench report: " << s.n_runs << " run(s), " << s.n_rows << " leaderboard row(s), " << s.n_pages
                << " task page(s) -> " << opt.out.string() << "\n";
      if (!s.baseline_run.empty())
        std::cout << "  regressions against " << s.baseline_run << ": " << s.n_regressions << " of " << s.n_compared
                  << " compared (model, strategy, task)\n";
      exit_code = (fail_on_regression && s.n_regressions > 0) ? kExitRegression : kExitOk;
    } catch (const reports::StoreError& e) {
      std::cerr << "lnbench report: " << e.what() << "\n";
      exit_code = kExitBadInput;
    } catch (const common::EnvironmentError& e) {  // the report could not be written
      std::cerr << "lnbench report: " << e.what() << "\n";
      exit_code = kExitFailure;
    }
  });
}

}  // namespace lnb::harness
