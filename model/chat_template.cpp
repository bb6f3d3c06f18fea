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
       "USER", "ASSISTANT", " ", "</s>", ChatTemplate::Style::kTwo, {}, false},
      {"llava_llama_2",
       "You are a helpful language and vision assistant. You are able to understand the visual content that the user "
       "provides, and assist the user with a variety of tasks using natural language.",
       "USER", "ASSISTANT", "<s>", "</s>", ChatTemplate::Style::kLlama2, {}, false},
      {"plain", "", "", "", "\n", "\n", ChatTemplate::Style::kPlain, {}, false},
      // conv_vicuna_v0 (SBT:llava/conversation.py L224-253), its exchange verbatim.
      {"vicuna_v0",
       "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, "
       "and polite answers to the human's questions.",
       "Human", "Assistant", "###", "", ChatTemplate::Style::kSingle,
       {{"What are the key differences between renewable and non-renewable energy sources?",
         std::string("Renewable energy sources are those that can be replenished naturally in a relatively short amount "
                     "of time, such as solar, wind, hydro, geothermal, and biomass. Non-renewable energy sources, on the "
                     "other hand, are finite and will eventually be depleted, such as coal, oil, and natural gas. Here "
                     "are some key differences between renewable and non-renewable energy sources:\n"
                     "1. Availability: Renewable energy sources are virtually inexhaustible, while non-renewable energy "
                     "sources are finite and will eventually run out.\n"
                     "2. Environmental impact: Renewable energy sources have a much lower environmental impact than "
                     "non-renewable sources, which can lead to air and water pollution, greenhouse gas emissions, and "
                     "other negative effects.\n"
                     "3. Cost: Renewable energy sources can be more expensive to initially set up, but they typically "
                     "have lower operational costs than non-renewable sources.\n"
                     "4. Reliability: Renewable energy sources are often more reliable and can be used in more remote "
                     "locations than non-renewable sources.\n"
                     "5. Flexibility: Renewable energy sources are often more flexible and can be adapted to different "
                     "situations and needs, while non-renewable sources are more rigid and inflexible.\n"
                     "6. Sustainability: Renewable energy sources are more sustainable over the long term, while "
                     "non-renewable sources are not, and their depletion can lead to economic and social instability.\n")}},
       true},
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
  for (const auto& turn : t.built_in) {
    msgs.emplace_back(turn.user);
    msgs.push_back(turn.assistant);
  }
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
    case ChatTemplate::Style::kSingle: {
      ret = t.system + t.sep;
      for (size_t i = 0; i < msgs.size(); ++i) {
        const std::string& role = i % 2 == 0 ? t.user_role : t.assistant_role;
        if (msgs[i]) ret += role + ": " + *msgs[i] + t.sep;
        else ret += role + ":";  // no trailing space: the authors' prompts end "###Assistant:"
      }
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
