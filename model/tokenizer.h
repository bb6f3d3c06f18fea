// LLaMA-1/2 sentencepiece tokenizer with the semantics LLaVA's tokenizer had (the slow,
// "legacy" transformers LlamaTokenizer): BOS prepended, the literal strings "<s>", "</s>"
// and "<unk>" in a text mapped to their special ids, every other segment encoded by
// sentencepiece on its own (each therefore starts with the dummy-prefix space), and
// LLaVA's tokenizer_image_token: prompt chunks between "<image>" tokenized separately,
// BOS kept from the first only, kImageSlot between them.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace lnb::model {

// Marks where an image's features go in a token sequence (original LLaVA's IMAGE_TOKEN_INDEX).
inline constexpr int64_t kImageSlot = -200;

class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Trains a sentencepiece model in memory on `sentences` with the trainer's command-line
// `args` (e.g. "--model_type=bpe --vocab_size=640 ..."); returns the serialized model
// (what tokenizer.model holds). Throws TokenizerError with the trainer's status.
std::string train_sentencepiece(const std::vector<std::string>& sentences, const std::string& args);

class Tokenizer {
 public:
  explicit Tokenizer(const std::filesystem::path& model_file);  // throws TokenizerError
  static Tokenizer from_serialized(const std::string& proto, const std::string& name);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  int64_t vocab_size() const;
  int64_t bos_id() const;
  int64_t eos_id() const;
  int64_t unk_id() const;

  std::vector<int64_t> encode(std::string_view text, bool add_bos = true) const;
  std::vector<int64_t> encode_with_image(std::string_view prompt) const;
  // Text of ids, special and out-of-vocabulary ids (image, pad) skipped, as
  // batch_decode(skip_special_tokens=True) — without strip(); callers strip.
  std::string decode(const std::vector<int64_t>& ids) const;
  const std::string& name() const { return name_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string name_;
};

}  // namespace lnb::model
