// LLaVA's conversation templates (llava/conversation.py), rendered exactly as its
// get_prompt() does: vicuna_v1 (SeparatorStyle.TWO), llava_llama_2 (LLAMA_2), plain
// (PLAIN), and vicuna_v0 (SINGLE: Human/Assistant, "###" after every message, and a fixed
// text-only exchange about renewable energy before the caller's turns; the LayerNorm
// paper authors' evaluation template, specs/protocol.md §0 and §6). Multi-turn: text-only example turns first, the image turn last; the image
// marker "<image>" stays inside a user message where the caller put it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lnb::model {

struct ChatTurn {
  std::string user;                      // may contain "<image>"
  std::optional<std::string> assistant;  // empty optional on the last turn = generation prompt
};

struct ChatTemplate {
  std::string name;
  std::string system;
  std::string user_role, assistant_role;
  std::string sep, sep2;
  enum class Style { kTwo, kLlama2, kPlain, kSingle } style;
  std::vector<ChatTurn> built_in = {};  // turns the template itself holds, rendered before the caller's
  // An evaluation-only template: lnbench train refuses it (LLaVA trains v0 with another
  // preprocessing, which lnbench does not implement).
  bool eval_only = false;
};

const std::vector<std::string>& template_names();
const ChatTemplate& chat_template(const std::string& name);  // throws std::invalid_argument listing them

// The prompt text; a turn without an assistant answer ends the prompt with the assistant
// role's opening (e.g. "ASSISTANT:") ready for generation.
std::string render_chat(const ChatTemplate& t, const std::vector<ChatTurn>& turns);

}  // namespace lnb::model
