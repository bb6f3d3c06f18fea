// See pil_resize.h. The arithmetic (double coefficients, normalization, rounding to
// 22-bit fixed point with a half-unit bias, clip to 0..255) is what makes it bit-exact.
#include "model/pil_resize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace lnb::model {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x) {  // Keys' cubic with a = -0.5, support 2
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per output pixel: the first source index, the tap count and ksize fixed-point weights.
struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;  // out_size * ksize
};

Coefficients precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      const double scaled = w * (1 << kPrecisionBits);
      c.weights[static_cast<size_t>(xx) * c.ksize + x] = static_cast<int32_t>(w < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t clip8(int32_t v) {
  const int32_t shifted = v >> kPrecisionBits;  // arithmetic shift, as Pillow's table lookup
  return static_cast<uint8_t>(std::clamp(shifted, 0, 255));
}

// One pass along x (horizontal) or y (vertical); `in` has the other dimension unchanged.
Image8 pass(const Image8& in, const Coefficients& c, int out_size, bool horizontal) {
  Image8 out;
  out.channels = in.channels;
  out.width = horizontal ? out_size : in.width;
  out.height = horizontal ? in.height : out_size;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * out.channels);
  const int C = in.channels;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const int o = horizontal ? x : y;
      const int32_t* w = &c.weights[static_cast<size_t>(o) * c.ksize];
      for (int ch = 0; ch < C; ++ch) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int t = 0; t < c.count[o]; ++t) {
          const int src = c.first[o] + t;
          ss += static_cast<int32_t>(horizontal ? in.at(src, y, ch) : in.at(x, src, ch)) * w[t];
        }
        out.pixels[(static_cast<size_t>(y) * out.width + x) * C + ch] = clip8(ss);
      }
    }
  }
  return out;
}

}  // namespace

Image8 pil_resize_bicubic(const Image8& in, int width, int height, PassOrder order) {
  if (width <= 0 || height <= 0 || in.width <= 0 || in.height <= 0)
    throw std::invalid_argument("pil_resize_bicubic: empty size " + std::to_string(in.width) + "x" +
                                std::to_string(in.height) + " -> " + std::to_string(width) + "x" + std::to_string(height));
  const bool need_h = width != in.width, need_v = height != in.height;
  if (!need_h && !need_v) return in;
  const Coefficients cv = precompute(in.height, height);
  if (!need_h) return pass(in, cv, height, /*horizontal=*/false);
  const Coefficients ch = precompute(in.width, width);
  if (need_v && order == PassOrder::kVerticalFirst)
    return pass(pass(in, cv, height, /*horizontal=*/false), ch, width, /*horizontal=*/true);
  // Pillow resamples horizontally only the rows the vertical pass will read.
  const int y_first = cv.first.front();
  const int y_last = cv.first.back() + cv.count.back();
  Image8 rows;
  rows.width = in.width;
  rows.channels = in.channels;
  rows.height = need_v ? y_last - y_first : in.height;
  const int y0 = need_v ? y_first : 0;
  const size_t row_bytes = static_cast<size_t>(in.width) * in.channels;
  rows.pixels.assign(in.pixels.begin() + static_cast<std::ptrdiff_t>(y0 * row_bytes),
                     in.pixels.begin() + static_cast<std::ptrdiff_t>((y0 + rows.height) * row_bytes));
  Image8 tmp = pass(rows, ch, width, /*horizontal=*/true);
  if (!need_v) return tmp;
  Coefficients shifted = cv;
  for (int& f : shifted.first) f -= y_first;
  return pass(tmp, shifted, height, /*horizontal=*/false);
}

}  // namespace lnb::model
