// Requests of every task rendered by model/'s vicuna_v1 template equal the goldens that
// gen_task_goldens.py renders with LLaVA's get_prompt: the conversation each adapter
// builds is the one the reference scripts build.
#include <gtest/gtest.h>

#include "model/chat_template.h"
#include "tasks/task.h"
#include "tests/tasks/task_fixture.h"

namespace lnb::tasks {
namespace {

std::string render(const Request& r) {
  std::vector<model::ChatTurn> turns;
  for (const Turn& t : r.turns) turns.push_back({t.user, t.assistant});
  return model::render_chat(model::chat_template("vicuna_v1"), turns);
}

TEST(TaskRender, EveryRequestMatchesLlavaGetPrompt) {
  test::FixtureCopy fx;
  const auto goldens = test::read_json(test::tasks_data() / "goldens" / "prompts.json");
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"mme", "mme", ""}, {"vqav2", "vqav2", ""}, {"vqav2_test-dev", "vqav2", "test-dev"},
      {"coco", "coco", ""}, {"flickr30k", "flickr30k", ""}, {"pope", "pope", ""}};
  for (const auto& [key, name, split] : cases) {
    auto task = make_task(name);
    TaskOptions o;
    o.split = split;
    task->load(fx.root() / (name == "vqav2" ? "vqav2" : name), o);
    const auto& g = goldens[key];
    ASSERT_EQ(task->requests().size(), g.size()) << key;
    for (size_t i = 0; i < g.size(); ++i) {
      EXPECT_EQ(task->requests()[i].id, g[i]["id"].get<std::string>()) << key;
      EXPECT_EQ(render(task->requests()[i]), g[i]["prompt"].get<std::string>()) << key << " " << g[i]["id"];
    }
  }
}

}  // namespace
}  // namespace lnb::tasks
