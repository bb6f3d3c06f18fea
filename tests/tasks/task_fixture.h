// The checked-in fixture benchmarks (tests/data/tasks/fixture, from gen_task_goldens.py)
// copied to a fresh folder, with every image of fixture/images.txt drawn there: a
// colored shape per file with OpenCV where the build has it, else a marker file (the
// adapters check that images exist; they never decode them).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#if LNB_TEST_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace lnb::test {

namespace fs = std::filesystem;

inline fs::path tasks_data() { return fs::path(LNB_TEST_DATA_DIR) / "tasks"; }

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(read_file(p)); }

inline void draw_image(const fs::path& p, int seed) {
  fs::create_directories(p.parent_path());
#if LNB_TEST_HAVE_OPENCV
  cv::Mat img(48, 64, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::circle(img, {16 + seed % 32, 24}, 10, cv::Scalar(40 * (seed % 6), 200, 255 - 30 * (seed % 8)), cv::FILLED);
  cv::imwrite(p.string(), img);
#else
  std::ofstream(p, std::ios::binary) << "image " << seed;
#endif
}

// A fresh copy of the fixture with its images, removed by the destructor.
class FixtureCopy {
 public:
  FixtureCopy() {
    static int n = 0;
    root_ = fs::temp_directory_path() / ("lnb_tasks_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(root_);
    fs::copy(tasks_data() / "fixture", root_, fs::copy_options::recursive);
    std::istringstream list(read_file(root_ / "images.txt"));
    int seed = 0;
    for (std::string line; std::getline(list, line);)
      if (!line.empty()) draw_image(root_ / line, seed++);
  }
  ~FixtureCopy() { fs::remove_all(root_); }
  FixtureCopy(const FixtureCopy&) = delete;
  FixtureCopy& operator=(const FixtureCopy&) = delete;
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

}  // namespace lnb::test
