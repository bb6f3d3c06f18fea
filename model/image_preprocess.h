// Image preprocessing as CLIPImageProcessor and LLaVA do it: decode (OpenCV, checked for
// emptiness, BGR -> RGB), optional LLaVA pad-to-square with the mean colour, resize of the
// shortest side with Pillow-exact bicubic, center crop, rescale 1/255, normalize.
#pragma once

#include <array>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <ATen/core/Tensor.h>

#include "model/pil_resize.h"

namespace lnb::model {

// A file that is not a decodable image, or an image processor config that is invalid.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ImageProcessorConfig {
  int shortest_edge = 336;  // resize target of the shortest side
  int crop = 336;           // center crop side
  double rescale = 1.0 / 255.0;
  std::array<double, 3> mean{0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> std{0.26862954, 0.26130258, 0.27577711};
  bool pad_to_square = false;  // LLaVA-1.5 image_aspect_ratio=pad (not in HF's processor)
};

// preprocessor_config.json of a model folder when present (fields: size.shortest_edge or
// size, crop_size.{height,width} or crop_size, rescale_factor, image_mean, image_std);
// otherwise CLIP's defaults at `image_size`. Throws ImageError naming file and field.
ImageProcessorConfig load_image_processor(const std::filesystem::path& model_dir, int image_size);

// Decoded RGB pixels. Throws ImageError naming the file when it is missing or not an image.
Image8 decode_image(const std::filesystem::path& path);
Image8 decode_image_bytes(const std::string& bytes, const std::string& name);

// LLaVA's expand2square: the image centred on a square of colour int(mean * 255).
Image8 pad_to_square(const Image8& rgb, const std::array<double, 3>& mean);

// The whole pipeline: (3, crop, crop) float32 CHW.
at::Tensor preprocess_image(const Image8& rgb, const ImageProcessorConfig& config);

}  // namespace lnb::model
