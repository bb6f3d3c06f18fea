// The run config of `lnbench run` (and the single-task `lnbench eval`): every option is
// declared once in `run_options()` — its dotted key, kind, default and help — and that
// one table gives the JSON file's schema, the `--set key=value` overrides, the CLI flags
// (`--eval-batch-size` for `eval.batch_size`), the validation messages (naming the key,
// what was expected and what was found) and the resolved config echoed into run.json.
//
// Keys with a `*` are per-entry options of the keyed sections: `models.<name>.path`,
// `tasks.<name>.data`. Relative paths resolve against the config file's folder.
#pragma once

#include <cstdint>

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lnb::harness {

class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class OptionKind { kString, kPath, kInt, kFloat, kBool, kList };

struct OptionSpec {
  std::string key;       // "eval.batch_size", "tasks.*.limit"
  OptionKind kind;
  nlohmann::json fallback;  // default; null = unset (required when `required`)
  std::string help;
  bool required = false;
  std::vector<std::string> choices;  // kString: allowed values (empty = any)
  double min = -1e300;               // kInt, kFloat: smallest allowed value
  double max = 1e300;                // kInt, kFloat: largest allowed value
};

const std::vector<OptionSpec>& run_options();

// The CLI flag of a non-wildcard key: "--" + key with '.' and '_' as '-'.
std::string flag_name(const std::string& key);

// `lnbench eval`'s flags: the run config's eval.*, per-task (tasks.*.X but data) and
// per-model (models.*.X but path) options and device/dtype, each with its flag
// (--batch-size, --max-new-tokens, --template, ...). The command maps them back to keys.
struct EvalFlag {
  std::string flag;
  const OptionSpec* spec;
};
std::vector<EvalFlag> eval_command_options();

// An option's help with its choices and default, for --help.
std::string option_help(const OptionSpec& s);

// File config (may be null) + overrides ("key=value", applied in order) -> the resolved
// config: every declared option present (defaults filled), kinds checked, paths
// absolute, unknown keys rejected. `origin` names the file in messages; `base_dir`
// anchors relative paths. Throws ConfigError naming the key.
nlohmann::ordered_json resolve_run_config(const nlohmann::json& file_config, const std::vector<std::string>& overrides,
                                          const std::string& origin, const std::filesystem::path& base_dir);

// The option table as Markdown (docs/run_config.md embeds it; `lnbench run --list-options`).
std::string options_markdown();

// train.strategy_lr: "STRATEGY=RATE,..." -> rates; std::invalid_argument naming the bad item.
std::map<std::string, double> parse_strategy_lr(const std::string& text);

// Reads a config file (JSON) and resolves it.
nlohmann::ordered_json load_run_config(const std::filesystem::path& file, const std::vector<std::string>& overrides);

// One column of the matrix: a strategy trained with one seed. With train.seeds = [a, b],
// "ln" (seed a) and "ln~seed<b>"; base is never trained, so it has one cell.
struct MatrixCell {
  std::string name, strategy;
  uint64_t seed = 0;
};
std::vector<MatrixCell> matrix_cells(const nlohmann::ordered_json& config);

}  // namespace lnb::harness
