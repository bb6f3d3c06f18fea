// liblnbench_images.so: the report's thumbnails (decode, shrink, JPEG) with OpenCV.
// A plugin of its own, loaded by `lnbench report` only when a sample browser shows
// images: OpenCV's codecs pull in ~140 shared libraries, which every other torch-free
// command would otherwise load at start.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

// Decodes `path`, shrinks it (area averaging) so its longer side is at most `max_side`
// (never enlarges) and encodes it as JPEG (quality 85) into a malloc'ed buffer the
// caller frees with lnb_thumbnail_free. Returns 0, or 1 when the file cannot be
// decoded or encoded.
extern "C" __attribute__((visibility("default"))) int lnb_thumbnail(const char* path, int max_side, unsigned char** out,
                                                                    size_t* size) {
  *out = nullptr;
  *size = 0;
  try {
    cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
    if (img.empty() || max_side < 1) return 1;
    const int longer = std::max(img.cols, img.rows);
    if (longer > max_side) {
      const double f = static_cast<double>(max_side) / longer;
      cv::Mat small;
      cv::resize(img, small, cv::Size(std::max(1, static_cast<int>(img.cols * f + 0.5)), std::max(1, static_cast<int>(img.rows * f + 0.5))),
                 0, 0, cv::INTER_AREA);
      img = small;
    }
    std::vector<unsigned char> jpeg;
    if (!cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85}) || jpeg.empty()) return 1;
    *out = static_cast<unsigned char*>(std::malloc(jpeg.size()));
    if (*out == nullptr) return 1;
    std::memcpy(*out, jpeg.data(), jpeg.size());
    *size = jpeg.size();
    return 0;
  } catch (...) {
    return 1;
  }
}

extern "C" __attribute__((visibility("default"))) void lnb_thumbnail_free(unsigned char* p) { std::free(p); }
