// See data.h. The token arithmetic (round_len, instruction_len - 2) is LLaVA's: with the
// legacy LLaMA tokenizer every round tokenized alone starts with BOS, which stands in for
// the round's closing "</s>", and the separator's trailing space is one extra "▁".
#include "training/data.h"

#include <nlohmann/json.hpp>

#include "common/json_io.h"
#include "common/file_io.h"

namespace lnb::training {
namespace {

const char* const kImage = "<image>";

std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {  // Python str.split(sep)
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; (at = s.find(sep, from)) != std::string::npos; from = at + sep.size()) out.push_back(s.substr(from, at - from));
  out.push_back(s.substr(from));
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

int64_t n_tokens(const model::Tokenizer& tok, const std::string& text, bool with_image) {
  return static_cast<int64_t>(with_image ? tok.encode_with_image(text).size() : tok.encode(text).size());
}

}  // namespace

std::vector<Conversation> read_conversations(const std::filesystem::path& file) {
  std::string text;
  try {
    text = common::read_file(file);
  } catch (const std::exception& e) {
    throw TrainDataError(std::string(e.what()) + " (the training data file)");
  }
  nlohmann::json root;
  try {
    root = common::parse_json(text, file.string());
  } catch (const std::exception& e) {
    throw TrainDataError(e.what());
  }
  if (!root.is_array())
    throw TrainDataError(file.string() + ": expected a JSON list of samples, found " + std::string(root.type_name()));
  std::vector<Conversation> out;
  out.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const nlohmann::json& s = root[i];
    auto fail = [&](const std::string& field, const std::string& what) {
      std::string id = s.is_object() && s.contains("id") ? s["id"].dump() : "?";
      return TrainDataError(file.string() + ": sample " + std::to_string(i) + " (id " + id + "): " + field + ": " + what);
    };
    if (!s.is_object()) throw fail("sample", "expected an object, found " + std::string(s.type_name()));
    Conversation c;
    if (s.contains("id")) c.id = s["id"].is_string() ? s["id"].get<std::string>() : s["id"].dump();
    else c.id = std::to_string(i);
    if (s.contains("image") && !s["image"].is_null()) {
      if (!s["image"].is_string()) throw fail("image", "expected a string path, found " + std::string(s["image"].type_name()));
      c.image = s["image"].get<std::string>();
    }
    if (!s.contains("conversations") || !s["conversations"].is_array())
      throw fail("conversations", "expected a list of {from, value} turns");
    for (size_t j = 0; j < s["conversations"].size(); ++j) {
      const nlohmann::json& m = s["conversations"][j];
      const std::string where = "conversations[" + std::to_string(j) + "]";
      if (!m.is_object() || !m.contains("from") || !m["from"].is_string() || !m.contains("value") || !m["value"].is_string())
        throw fail(where, "expected {\"from\": \"human\"|\"gpt\", \"value\": string}");
      const std::string from = m["from"].get<std::string>();
      if (from != "human" && from != "gpt")
        throw fail(where + ".from", "expected \"human\" or \"gpt\", found \"" + from + "\"");
      const bool expect_human = j % 2 == 0;
      if ((from == "human") != expect_human)
        throw fail(where + ".from", std::string("turns must alternate human, gpt, ...; expected \"") +
                                        (expect_human ? "human" : "gpt") + "\", found \"" + from + "\"");
      c.messages.push_back({from == "human", m["value"].get<std::string>()});
    }
    if (c.messages.size() < 2) throw fail("conversations", "expected at least one human/gpt pair");
    if (c.messages.size() % 2 != 0) throw fail("conversations", "the last human turn has no gpt answer");
    const bool has_marker = c.messages[0].value.find(kImage) != std::string::npos;
    if (!c.image.empty() && !has_marker) c.messages[0].value = std::string(kImage) + "\n" + c.messages[0].value;
    if (c.image.empty() && has_marker) throw fail("conversations[0].value", "names <image> but the sample has no image");
    out.push_back(std::move(c));
  }
  return out;
}

TokenizedSample tokenize_conversation(const Conversation& c, const model::ChatTemplate& t, const model::Tokenizer& tok) {
  if (t.eval_only) throw std::invalid_argument("template '" + t.name + "' is for evaluation only: lnbench does not train with it");
  const bool has_image = !c.image.empty();
  TokenizedSample s;
  if (t.style == model::ChatTemplate::Style::kPlain) {
    // preprocess_plain: "<image>" + caption + sep; the image part is masked.
    const std::string head = has_image ? kImage : "";
    const std::string text = head + c.messages[1].value + t.sep;
    s.ids = has_image ? tok.encode_with_image(text) : tok.encode(text);
    s.labels = s.ids;
    const int64_t masked = n_tokens(tok, head, has_image);
    for (int64_t i = 0; i < masked && i < static_cast<int64_t>(s.labels.size()); ++i) s.labels[i] = kIgnore;
    return s;
  }
  std::vector<model::ChatTurn> turns;
  for (size_t i = 0; i + 1 < c.messages.size(); i += 2) {
    std::string user = c.messages[i].value;
    if (i == 0 && has_image)  // preprocess_multimodal
      user = std::string(kImage) + "\n" + strip(replace_all(user, kImage, ""));
    turns.push_back({user, c.messages[i + 1].value});
  }
  const std::string conversation = model::render_chat(t, turns);
  s.ids = has_image ? tok.encode_with_image(conversation) : tok.encode(conversation);
  s.labels = s.ids;
  const int64_t total = static_cast<int64_t>(s.ids.size());
  const std::string sep = t.style == model::ChatTemplate::Style::kTwo ? t.sep + t.assistant_role + ": " : "[/INST] ";
  int64_t cur = 1;
  s.labels[0] = kIgnore;
  for (const std::string& round : split(conversation, t.sep2)) {
    if (round.empty()) break;
    std::vector<std::string> parts = split(round, sep);
    if (parts.size() != 2) break;
    parts[0] += sep;
    const int64_t round_len = n_tokens(tok, round, has_image);
    const int64_t instruction_len = n_tokens(tok, parts[0], has_image) - 2;
    for (int64_t k = cur; k < std::min(cur + instruction_len, total); ++k) s.labels[k] = kIgnore;
    cur += round_len;
  }
  for (int64_t k = cur; k < total; ++k) s.labels[k] = kIgnore;
  if (cur != total) {  // LLaVA: "WARNING: tokenization mismatch" -> the sample teaches nothing
    s.mismatch = true;
    std::fill(s.labels.begin(), s.labels.end(), kIgnore);
  }
  return s;
}

}  // namespace lnb::training
