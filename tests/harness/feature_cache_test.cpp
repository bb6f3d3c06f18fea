// The evaluator's vision-feature cache trusts a disk entry only when it is whole: a
// damaged file, a wrong shape or dtype, or a NaN is recomputed (and rewritten), and
// the features handed out are then exactly what the vision tower computes.
#include "harness/feature_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/safetensors.h"

namespace lnb::harness {
namespace {

namespace fs = std::filesystem;

struct Dir {
  fs::path path = fs::temp_directory_path() / ("lnb_fcache_" + std::to_string(::getpid()));
  Dir() { fs::remove_all(path), fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
};

// A stand-in vision tower: (n, 4, 3) features that depend on the image's bytes.
at::Tensor tower(const std::vector<fs::path>& images, int* calls) {
  ++*calls;
  std::vector<at::Tensor> out;
  for (const fs::path& p : images) out.push_back(at::full({4, 3}, static_cast<double>(fs::file_size(p))));
  return at::stack(out);
}

fs::path only_entry(const fs::path& root) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".safetensors") return e.path();
  return {};
}

TEST(FeatureCache, ServesAWholeDiskEntryAndRecomputesAnyBadOne) {
  const Dir d;
  const fs::path img = d.path / "a.png";
  std::ofstream(img) << "12345";
  int calls = 0;
  auto compute = [&calls](const std::vector<fs::path>& v) { return tower(v, &calls); };
  const at::Tensor truth = tower({img}, &calls)[0];
  calls = 0;
  {
    FeatureCache c(d.path / "cache", "key-0123456789abcdef");
    EXPECT_TRUE(at::equal(c.get_many({img}, 8, compute)[0], truth));
    EXPECT_EQ(calls, 1);
  }
  const fs::path entry = only_entry(d.path / "cache");
  ASSERT_FALSE(entry.empty());
  {  // a whole entry: a disk hit, no computation
    FeatureCache c(d.path / "cache", "key-0123456789abcdef");
    EXPECT_TRUE(at::equal(c.get_many({img}, 8, compute)[0], truth));
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(c.disk_hits(), 1);
    EXPECT_EQ(c.rejected(), 0);
  }
  const std::vector<std::pair<std::string, at::Tensor>> bad_entries[] = {
      {{"features", at::full({4, 3}, std::nan(""))}},         // NaN
      {{"features", at::ones({4, 3}, at::kLong)}},            // integer dtype
      {{"features", at::ones({12})}},                         // wrong rank
  };
  for (const auto& bad : bad_entries) {
    // Keep the entry's real metadata so only its content is wrong.
    const model::SafetensorsFile good(entry);
    model::save_safetensors(entry, bad, good.header().metadata);
    FeatureCache c(d.path / "cache", "key-0123456789abcdef");
    const int before = calls;
    EXPECT_TRUE(at::equal(c.get_many({img}, 8, compute)[0], truth)) << bad[0].second.toString();
    EXPECT_EQ(calls, before + 1) << "recomputed";
    EXPECT_EQ(c.rejected(), 1);
  }
  std::ofstream(entry, std::ios::trunc) << "not a safetensors file";
  FeatureCache c(d.path / "cache", "key-0123456789abcdef");
  EXPECT_TRUE(at::equal(c.get_many({img}, 8, compute)[0], truth));
  EXPECT_EQ(c.rejected(), 1);
}

}  // namespace
}  // namespace lnb::harness
