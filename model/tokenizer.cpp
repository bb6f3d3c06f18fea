// See tokenizer.h.
#include "model/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace lnb::model {

namespace {
void check_loaded(const sentencepiece::util::Status& st, const std::string& name) {
  if (!st.ok())
    throw TokenizerError(name + ": not a sentencepiece model (" + st.ToString() +
                         "); LLaMA-1/2 tokenizer.model expected (LLaMA-3's tiktoken file is not supported)");
}

class SentencesIterator : public sentencepiece::SentenceIterator {
 public:
  explicit SentencesIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return lines_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  size_t index_ = 0;
};
}  // namespace

std::string train_sentencepiece(const std::vector<std::string>& sentences, const std::string& args) {
  SentencesIterator it(sentences);
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
  if (!status.ok()) throw TokenizerError("sentencepiece training failed: " + status.ToString());
  return proto;
}

Tokenizer::Tokenizer(const std::filesystem::path& model_file) : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  name_ = model_file.string();
  if (!std::filesystem::exists(model_file)) throw TokenizerError(name_ + ": missing (expected a sentencepiece tokenizer.model)");
  check_loaded(sp_->Load(model_file.string()), name_);
}

Tokenizer Tokenizer::from_serialized(const std::string& proto, const std::string& name) {
  Tokenizer t;
  t.sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  t.name_ = name;
  check_loaded(t.sp_->LoadFromSerializedProto(proto), name);
  return t;
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

int64_t Tokenizer::vocab_size() const { return sp_->GetPieceSize(); }
int64_t Tokenizer::bos_id() const { return sp_->bos_id(); }
int64_t Tokenizer::eos_id() const { return sp_->eos_id(); }
int64_t Tokenizer::unk_id() const { return sp_->unk_id(); }

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int64_t> out;
  if (add_bos && bos_id() >= 0) out.push_back(bos_id());
  struct Special {
    std::string_view text;
    int64_t id;
  };
  const Special specials[] = {{"<s>", bos_id()}, {"</s>", eos_id()}, {"<unk>", unk_id()}};
  size_t pos = 0;
  std::vector<int> ids;
  auto encode_segment = [&](std::string_view seg) {
    if (seg.empty()) return;
    ids.clear();
    const auto st = sp_->Encode(seg, &ids);
    if (!st.ok()) throw TokenizerError(name_ + ": cannot encode text: " + st.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
  };
  while (pos < text.size()) {
    size_t best = std::string_view::npos;
    const Special* hit = nullptr;
    for (const Special& s : specials) {
      if (s.id < 0) continue;
      const size_t at = text.find(s.text, pos);
      if (at < best) best = at, hit = &s;
    }
    if (hit == nullptr) break;
    encode_segment(text.substr(pos, best - pos));
    out.push_back(hit->id);
    pos = best + hit->text.size();
  }
  encode_segment(text.substr(std::min(pos, text.size())));
  return out;
}

std::vector<int64_t> Tokenizer::encode_with_image(std::string_view prompt) const {
  constexpr std::string_view kImage = "<image>";
  std::vector<int64_t> out;
  size_t pos = 0;
  bool first = true;
  while (true) {
    const size_t at = prompt.find(kImage, pos);
    const std::string_view chunk = prompt.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos);
    std::vector<int64_t> ids = encode(chunk, /*add_bos=*/true);
    // tokenizer_image_token: keep BOS from the first chunk, drop it from the others.
    const bool drop_bos = !first && !ids.empty() && bos_id() >= 0 && ids.front() == bos_id();
    out.insert(out.end(), ids.begin() + (drop_bos ? 1 : 0), ids.end());
    first = false;
    if (at == std::string_view::npos) break;
    out.push_back(kImageSlot);
    pos = at + kImage.size();
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> keep;
  keep.reserve(ids.size());
  const int64_t n = vocab_size();
  for (int64_t id : ids) {
    if (id < 0 || id >= n || id == unk_id() || sp_->IsControl(static_cast<int>(id))) continue;
    keep.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto st = sp_->Decode(keep, &text);
  if (!st.ok()) throw TokenizerError(name_ + ": cannot decode ids: " + st.ToString());
  return text;
}

}  // namespace lnb::model
