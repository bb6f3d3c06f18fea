// Pillow's BICUBIC resize, reproduced to the bit: CLIP and LLaVA preprocess with
// PIL.Image.resize(resample=BICUBIC), and OpenCV's INTER_CUBIC differs from it by several
// grey levels (a different kernel support when downscaling, float instead of Pillow's
// 22-bit fixed-point arithmetic). Written from Pillow's documented algorithm — separable
// convolution, a = -0.5, support scaled by the downscale factor, coefficients normalized
// and rounded to fixed point, horizontal pass first with 8-bit rounding in between.
// Torch-free: interleaved 8-bit pixels in, interleaved 8-bit pixels out.
#pragma once

#include <cstdint>
#include <vector>

namespace lnb::model {

struct Image8 {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // row-major, channels interleaved
  uint8_t at(int x, int y, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

// Which one-axis pass runs first. Pillow <= 12 always runs the horizontal pass first;
// Pillow 13 picks the order by a cost heuristic when the two axes scale differently
// (never for the aspect-preserving resizes CLIP preprocessing does). Each order equals
// the corresponding pair of one-axis PIL resizes to the bit.
enum class PassOrder { kHorizontalFirst, kVerticalFirst };

// Resize to (width, height) exactly as PIL.Image.resize((width, height), Image.BICUBIC)
// with no box and no reducing_gap. Throws std::invalid_argument on empty sizes.
Image8 pil_resize_bicubic(const Image8& in, int width, int height, PassOrder order = PassOrder::kHorizontalFirst);

}  // namespace lnb::model
