// See selfcheck.h. Each check is independent and catches its own exceptions, so one
// broken dependency is reported by name instead of aborting the rest.
#include "model/selfcheck.h"

#include <cmath>
#include <functional>
#include <sstream>

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sentencepiece_processor.h>

#include "model/tokenizer.h"

#ifdef LNB_WITH_CUDA_SOURCES
#include "model/cuda/cuda_smoke.h"
#endif

namespace lnb::model {
namespace {

CheckResult guarded(const std::string& name, const std::function<std::string()>& body) {
  CheckResult r;
  r.name = name;
  try {
    r.detail = body();
    r.ok = true;
  } catch (const std::exception& e) {
    r.detail = e.what();
  }
  return r;
}

void require(bool cond, const std::string& what) {
  if (!cond) throw std::runtime_error(what);
}

std::string check_torch_matmul() {
  at::manual_seed(0);
  const at::Tensor a = at::randn({5, 7}, at::kDouble);  // (M, K)
  const at::Tensor b = at::randn({7, 3}, at::kDouble);  // (K, N)
  const at::Tensor c = at::matmul(a, b);               // (M, N)
  double max_err = 0;
  auto A = a.accessor<double, 2>();
  auto B = b.accessor<double, 2>();
  auto C = c.accessor<double, 2>();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 7; ++k) s += A[i][k] * B[k][j];
      max_err = std::max(max_err, std::abs(s - C[i][j]));
    }
  require(max_err < 1e-12, "matmul differs from the naive product by " + std::to_string(max_err));
  return "matmul == naive loops (max |d| " + std::to_string(max_err) + ")";
}

std::string check_torch_sdpa() {
  at::manual_seed(1);
  const at::Tensor q = at::randn({2, 3, 6, 8}, at::kFloat);  // (B, H, T, Dh)
  const at::Tensor k = at::randn({2, 3, 6, 8}, at::kFloat);
  const at::Tensor v = at::randn({2, 3, 6, 8}, at::kFloat);
  const at::Tensor fused = at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(8.0);  // (B, H, T, T)
  const at::Tensor mask = at::ones({6, 6}, at::kBool).triu(1);
  scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  const at::Tensor naive = at::matmul(at::softmax(scores, -1), v);
  const double err = (fused - naive).abs().max().item<double>();
  require(err < 1e-5, "causal SDPA differs from naive attention by " + std::to_string(err));
  return "causal SDPA == naive attention (max |d| " + std::to_string(err) + ")";
}

std::string check_sentencepiece() {
  std::vector<std::string> corpus;
  const char* words[] = {"red", "circle", "blue", "square", "the", "a", "is", "left", "of", "green"};
  for (int i = 0; i < 300; ++i) {
    std::ostringstream line;
    for (int j = 0; j < 6; ++j) line << words[(i * 7 + j * 3) % 10] << ' ';
    corpus.push_back(line.str());
  }
  const std::string proto = train_sentencepiece(
      corpus, "--model_type=bpe --vocab_size=300 --byte_fallback=true --character_coverage=1.0 "
              "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --hard_vocab_limit=false --minloglevel=2");
  sentencepiece::SentencePieceProcessor sp;
  require(sp.LoadFromSerializedProto(proto).ok(), "sentencepiece could not load its own model");
  const std::string text = "the red 狐 circle 42";
  std::vector<int> ids;
  require(sp.Encode(text, &ids).ok(), "encode failed");
  std::string back;
  require(sp.Decode(ids, &back).ok(), "decode failed");
  require(back == text, "round trip gave '" + back + "'");
  return "BPE+byte-fallback model trained in memory; round trip of " + std::to_string(ids.size()) +
         " ids exact";
}

std::string check_opencv() {
  cv::Mat bgr(32, 48, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(bgr, cv::Rect(4, 4, 10, 10), cv::Scalar(0, 0, 255), cv::FILLED);  // red in BGR
  std::vector<uchar> png;
  require(cv::imencode(".png", bgr, png), "PNG encode failed");
  cv::Mat decoded = cv::imdecode(png, cv::IMREAD_COLOR);
  require(!decoded.empty(), "PNG decode gave an empty image");
  cv::Mat rgb;
  cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
  const cv::Vec3b px = rgb.at<cv::Vec3b>(8, 8);
  require(px[0] == 255 && px[1] == 0 && px[2] == 0, "pixel after BGR->RGB is not red");
  require(cv::norm(bgr, decoded, cv::NORM_INF) == 0, "PNG round trip is lossy");
  return "draw, PNG round trip and BGR->RGB exact (" + std::to_string(png.size()) + " bytes)";
}

CheckResult check_cuda() {
  CheckResult r;
  r.name = "cuda";
  if (!torch::cuda::is_available()) {
    r.skipped = true;
    r.ok = true;
    r.detail = "no GPU on this machine";
    return r;
  }
  return guarded("cuda", [] {
    const at::Tensor a = at::randn({64, 64}, at::TensorOptions().device(at::kCUDA));
    const double err = (at::matmul(a, a).cpu() - at::matmul(a.cpu(), a.cpu())).abs().max().item<double>();
    std::string detail = "GPU matmul vs CPU max |d| " + std::to_string(err);
#ifdef LNB_WITH_CUDA_SOURCES
    const auto y = cuda_saxpy(0, 2.0f, {1, 2, 3}, {10, 20, 30});
    require(y == std::vector<float>({12, 24, 36}), "own saxpy kernel gave a wrong result");
    detail += "; own saxpy kernel exact";
#endif
    require(err < 1e-2, detail);
    return detail;
  });
}

}  // namespace

std::vector<CheckResult> run_selfcheck() {
  std::vector<CheckResult> out;
  out.push_back(guarded("torch.matmul", check_torch_matmul));
  out.push_back(guarded("torch.sdpa", check_torch_sdpa));
  out.push_back(guarded("sentencepiece", check_sentencepiece));
  out.push_back(guarded("opencv", check_opencv));
  out.push_back(check_cuda());
  return out;
}

}  // namespace lnb::model
