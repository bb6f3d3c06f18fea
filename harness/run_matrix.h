// `lnbench run`'s matrix: models x strategies x tasks from a resolved run config
// (harness/run_config.h) into the results store (docs/results_store.md). Returns the
// exit code: 0, or 1 when any cell failed (each failure is recorded in run.json).
#pragma once

#include <nlohmann/json.hpp>

namespace lnb::harness {

int run_matrix(const nlohmann::ordered_json& config, bool quiet, bool verbose);

}  // namespace lnb::harness
