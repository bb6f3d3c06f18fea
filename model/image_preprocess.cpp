// See image_preprocess.h.
#include "model/image_preprocess.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include "common/json_io.h"

namespace lnb::model {

using json = nlohmann::json;

namespace {

int read_size(const json& j, const char* key, const char* inner, int fallback, const std::string& file) {
  if (!j.contains(key)) return fallback;
  const json& v = j[key];
  const json* n = v.is_number_integer() ? &v : (v.is_object() && v.contains(inner) && v[inner].is_number_integer() ? &v[inner] : nullptr);
  if (n != nullptr && n->get<int64_t>() > 0 && n->get<int64_t>() <= 8192) return static_cast<int>(n->get<int64_t>());
  throw ImageError(file + ": field '" + key + "': expected an integer from 1 to 8192 or {\"" + inner + "\": int}, got " +
                   common::json_excerpt(v));
}

std::array<double, 3> read_triple(const json& j, const char* key, std::array<double, 3> fallback, const std::string& file) {
  if (!j.contains(key)) return fallback;
  const json& v = j[key];
  if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number() ||
      !std::isfinite(v[0].get<double>()) || !std::isfinite(v[1].get<double>()) || !std::isfinite(v[2].get<double>()))
    throw ImageError(file + ": field '" + key + "': expected 3 finite numbers (R, G, B), got " + common::json_excerpt(v));
  return {v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
}

Image8 from_mat(const cv::Mat& decoded, const std::string& name) {
  if (decoded.empty()) throw ImageError(name + ": not a decodable image (OpenCV could not read it)");
  cv::Mat rgb;  // IMREAD_COLOR always yields 8-bit BGR (grey, alpha and 16-bit are converted)
  cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
  Image8 img;
  img.width = rgb.cols;
  img.height = rgb.rows;
  img.channels = 3;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y)
    std::memcpy(&img.pixels[static_cast<size_t>(y) * img.width * 3], rgb.ptr<uint8_t>(y), static_cast<size_t>(img.width) * 3);
  return img;
}

}  // namespace

ImageProcessorConfig load_image_processor(const std::filesystem::path& dir, int image_size) {
  ImageProcessorConfig c;
  c.shortest_edge = c.crop = image_size;
  const auto path = dir / "preprocessor_config.json";
  if (!std::filesystem::exists(path)) return c;
  json j;
  try {
    j = common::read_json(path.string());
  } catch (const std::exception& e) {
    throw ImageError(e.what());
  }
  if (!j.is_object()) throw ImageError(path.string() + ": expected a JSON object, got " + common::json_excerpt(j));
  const std::string file = path.string();
  // What lnbench implements is CLIP's pipeline: convert to RGB, resize the shortest edge
  // with PIL's bicubic, centre-crop, rescale, normalize. A config that asks for another
  // step is refused, never half-followed.
  if (j.contains("resample") && j["resample"] != 3)
    throw ImageError(file + ": field 'resample': expected 3 (PIL bicubic, the only filter lnbench implements), got " +
                     common::json_excerpt(j["resample"]));
  for (const char* flag : {"do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb"})
    if (j.contains(flag) && j[flag] != true)
      throw ImageError(file + ": field '" + flag + "': expected true (lnbench always performs this step), got " +
                       common::json_excerpt(j[flag]));
  c.shortest_edge = read_size(j, "size", "shortest_edge", c.shortest_edge, file);
  c.crop = read_size(j, "crop_size", "height", c.crop, file);
  if (j.contains("rescale_factor")) {
    if (!j["rescale_factor"].is_number() || !(j["rescale_factor"].get<double>() > 0) || !std::isfinite(j["rescale_factor"].get<double>()))
      throw ImageError(file + ": field 'rescale_factor': expected a positive number, got " + common::json_excerpt(j["rescale_factor"]));
    c.rescale = j["rescale_factor"].get<double>();
  }
  c.mean = read_triple(j, "image_mean", c.mean, file);
  c.std = read_triple(j, "image_std", c.std, file);
  for (double s : c.std)
    if (!(s > 0)) throw ImageError(file + ": field 'image_std': expected positive values, got " + common::json_excerpt(j["image_std"]));
  if (c.shortest_edge <= 0 || c.crop <= 0 || c.crop > c.shortest_edge)
    throw ImageError(file + ": sizes: expected 0 < crop_size <= size, got size " + std::to_string(c.shortest_edge) +
                     " and crop_size " + std::to_string(c.crop));
  return c;
}

Image8 decode_image(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(path.string() + ": cannot open image file");
  std::stringstream s;
  s << in.rdbuf();
  return decode_image_bytes(s.str(), path.string());
}

Image8 decode_image_bytes(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw ImageError(name + ": empty file, expected an image");
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw ImageError(name + ": not a decodable image: " + e.what());
  }
  return from_mat(decoded, name);
}

Image8 pad_to_square(const Image8& rgb, const std::array<double, 3>& mean) {
  if (rgb.width == rgb.height) return rgb;
  const int side = std::max(rgb.width, rgb.height);
  Image8 out;
  out.width = out.height = side;
  out.channels = 3;
  out.pixels.resize(static_cast<size_t>(side) * side * 3);
  for (size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = static_cast<uint8_t>(static_cast<int>(mean[i % 3] * 255));
  const int ox = (side - rgb.width) / 2, oy = (side - rgb.height) / 2;
  for (int y = 0; y < rgb.height; ++y)
    std::memcpy(&out.pixels[(static_cast<size_t>(y + oy) * side + ox) * 3], &rgb.pixels[static_cast<size_t>(y) * rgb.width * 3],
                static_cast<size_t>(rgb.width) * 3);
  return out;
}

at::Tensor preprocess_image(const Image8& input, const ImageProcessorConfig& c) {
  TORCH_CHECK(input.channels == 3 && input.width > 0 && input.height > 0, "preprocess_image: expected RGB pixels");
  const Image8 rgb = c.pad_to_square ? pad_to_square(input, c.mean) : input;
  // HF get_resize_output_image_size(default_to_square=False): short side -> size,
  // long side -> int(size * long / short).
  const bool wide = rgb.width > rgb.height;
  const int short_side = wide ? rgb.height : rgb.width, long_side = wide ? rgb.width : rgb.height;
  const int new_long = static_cast<int>(static_cast<double>(c.shortest_edge) * long_side / short_side);
  const int w = wide ? new_long : c.shortest_edge, h = wide ? c.shortest_edge : new_long;
  const Image8 resized = pil_resize_bicubic(rgb, w, h);
  const int top = (h - c.crop) / 2, left = (w - c.crop) / 2;
  at::Tensor out = at::empty({3, c.crop, c.crop}, at::kFloat);  // (3, crop, crop)
  float* o = out.data_ptr<float>();
  for (int ch = 0; ch < 3; ++ch) {
    // HF: rescale in float32, then (x - mean) / std in float32.
    const float mean = static_cast<float>(c.mean[ch]), sd = static_cast<float>(c.std[ch]);
    const float scale = static_cast<float>(c.rescale);
    for (int y = 0; y < c.crop; ++y)
      for (int x = 0; x < c.crop; ++x)
        *o++ = (static_cast<float>(resized.at(left + x, top + y, ch)) * scale - mean) / sd;
  }
  return out;
}

}  // namespace lnb::model
