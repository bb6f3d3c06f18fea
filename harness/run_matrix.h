// `lnbench run`'s matrix: models x strategies x tasks from a resolved run config
// (harness/run_config.h) into the results store (docs/results_store.md). Returns the
// exit code: 0, or 1 when any cell failed (each failure is recorded in run.json).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/evaluator.h"
#include "tasks/task.h"

namespace lnb::harness {

int run_matrix(const nlohmann::ordered_json& config, bool quiet, bool verbose);

// ConfigError (exit 2) unless every strategy resolves (a combination naming a part twice
// does not) and its adapter and prefix options fit every model whose config reads.
// run_matrix calls it first; `run --print-config` too.
void check_strategies(const nlohmann::ordered_json& config);

// What `run` and `eval` share: a task loaded from its resolved tasks.NAME section, and the
// evaluator settings from the resolved config and one resolved models.NAME section.
std::unique_ptr<tasks::Task> load_task(const std::string& name, const nlohmann::ordered_json& task_config);
EvalSettings eval_settings(const nlohmann::ordered_json& config, const nlohmann::ordered_json& model_config);

}  // namespace lnb::harness
