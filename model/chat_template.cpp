// See chat_template.h. The strings are LLaVA's; the separators decide the token-level
// shape ("</s>" becomes the EOS id in the tokenizer).
#include "model/chat_template.h"

#include <stdexcept>

namespace lnb::model {

namespace {
const std::vector<ChatTemplate>& all() {
  static const std::vector<ChatTemplate> k = {
      {"vicuna_v1",
       "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
       "and polite answers to the user's questions.",
       "USER", "ASSISTANT", " ", "</s>", ChatTemplate::Style::kTwo},
      {"llava_llama_2",
       "You are a helpful language and vision assistant. You are able to understand the visual content that the user "
       "provides, and assist the user with a variety of tasks using natural language.",
       "USER", "ASSISTANT", "<s>", "</s>", ChatTemplate::Style::kLlama2},
      {"plain", "", "", "", "\n", "\n", ChatTemplate::Style::kPlain},
  };
  return k;
}
}  // namespace

const std::vector<std::string>& template_names() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> n;
    for (const auto& t : all()) n.push_back(t.name);
    return n;
  }();
  return k;
}

const ChatTemplate& chat_template(const std::string& name) {
  for (const auto& t : all())
    if (t.name == name) return t;
  std::string names;
  for (const auto& n : template_names()) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown chat template '" + name + "' (expected one of: " + names + ")");
}

std::string render_chat(const ChatTemplate& t, const std::vector<ChatTurn>& turns) {
  // Flattened message list as LLaVA's Conversation.messages: user, assistant, user, ...
  std::vector<std::optional<std::string>> msgs;
  for (const auto& turn : turns) {
    msgs.emplace_back(turn.user);
    msgs.push_back(turn.assistant);
  }
  std::string ret;
  switch (t.style) {
    case ChatTemplate::Style::kTwo: {
      const std::string seps[2] = {t.sep, t.sep2};
      ret = t.system + seps[0];
      for (size_t i = 0; i < msgs.size(); ++i) {
        const std::string& role = i % 2 == 0 ? t.user_role : t.assistant_role;
        if (msgs[i]) ret += role + ": " + *msgs[i] + seps[i % 2];
        else ret += role + ":";
      }
      break;
    }
    case ChatTemplate::Style::kLlama2: {
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (!msgs[i]) continue;
        std::string m = *msgs[i];
        if (i == 0 && !t.system.empty()) m = "<<SYS>>\n" + t.system + "\n<</SYS>>\n\n" + m;
        if (i % 2 == 0) ret += t.sep + "[INST] " + m + " [/INST]";
        else ret += " " + m + " " + t.sep2;
      }
      // ret.lstrip(sep): Python strips any of the separator's characters.
      const size_t first = ret.find_first_not_of(t.sep);
      ret = first == std::string::npos ? std::string() : ret.substr(first);
      break;
    }
    case ChatTemplate::Style::kPlain: {
      const std::string seps[2] = {t.sep, t.sep2};
      ret = t.system;
      for (size_t i = 0; i < msgs.size(); ++i)
        if (msgs[i]) ret += *msgs[i] + seps[i % 2];
      break;
    }
  }
  return ret;
}

}  // namespace lnb::model
