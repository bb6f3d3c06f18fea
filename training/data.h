// Training data as LLaVA's train.py builds it: the instruction JSON
// ([{id, image?, conversations: [{from: human|gpt, value}]}], `<image>` in the first human
// turn, text-only samples allowed) and the pretrain caption JSON (the same shape, one
// human/gpt pair, rendered with the `plain` template). Labels are masked exactly as
// LLaVA's preprocess_v1 / preprocess_llama_2 / preprocess_plain do: BOS, the system
// prompt, every human turn and the image slot are IGNORE; a round whose token count does
// not add up (LLaVA's "tokenization mismatch") masks the whole sample, counted.
//
// Not here: images (the trainer turns `image` paths into features) and batching.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace lnb::training {

inline constexpr int64_t kIgnore = -100;  // LLaVA's IGNORE_INDEX

// Bad training input: names the file, the sample index and the field.
class TrainDataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Message {
  bool from_human = true;
  std::string value;
};

struct Conversation {
  std::string id;
  std::string image;  // relative to the image folder; "" for a text-only sample
  std::vector<Message> messages;
};

// Reads a LLaVA JSON list; every problem is a TrainDataError "FILE: sample N (id X): field: ...".
std::vector<Conversation> read_conversations(const std::filesystem::path& file);

// One tokenized sample, image slots not yet expanded (model::kImageSlot, label kIgnore).
struct TokenizedSample {
  std::vector<int64_t> ids;
  std::vector<int64_t> labels;  // same length; kIgnore where no loss is taken
  bool mismatch = false;        // LLaVA's tokenization mismatch: every label is kIgnore
};

// LLaVA's preprocess for the template's style: kPlain -> preprocess_plain (the human turn
// becomes "<image>"), kTwo -> preprocess_v1, kLlama2 -> preprocess_llama_2. With an
// image, the first human turn is rewritten as preprocess_multimodal does ("<image>\n" +
// the rest, stripped).
TokenizedSample tokenize_conversation(const Conversation& c, const model::ChatTemplate& t, const model::Tokenizer& tok);

}  // namespace lnb::training
