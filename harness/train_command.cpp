// `lnbench train`: one strategy on LLaVA instruction (or pretrain caption) data, the
// options of training::TrainOptions declared once here as flags. `--lr` takes a list:
// one run per rate in OUT/lr-<rate>/, the best kept by --select (a validation-loss or,
// later, a task metric) and named in OUT/sweep.json. Progress: a bar on a TTY, one JSON
// event per line otherwise, rank 0 only.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/json_io.h"
#include "common/file_io.h"
#include "harness/cli.h"
#include "harness/evaluator.h"
#include "harness/torch_command.h"
#include "model/loader.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/distributed.h"
#include "training/trainer.h"

namespace lnb::harness {
namespace {

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
      throw std::invalid_argument("--lr: expected a rate or a comma-separated list of rates, found '" + item + "'");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--lr: expected at least one rate");
  return out;
}

std::string rate_name(double lr) {
  std::ostringstream o;
  o << std::setprecision(3) << lr;
  return "lr-" + o.str();
}

}  // namespace

void register_train(CLI::App& app, int& exit_code) {
  struct Args {
    training::TrainOptions o;
    std::string model, vision_tower, data, images, out, init, lr = "2e-5", lora_targets, no_decay;
    bool no_resume = false, no_peft = false, no_checkpoint = false, quiet = false;
    std::string select_task, select_data, select_metric;
    int64_t select_limit = 0, select_batch_size = 8;
  };
  static Args a;
  training::TrainOptions& o = a.o;
  CLI::App* cmd = app.add_subcommand("train", "Train one strategy on instruction data");
  cmd->add_option("--model", a.model, "Base model folder (llava-hf, original LLaVA or LLaMA)")->required();
  cmd->add_option("--vision-tower", a.vision_tower, "CLIP folder for original LLaVA");
  cmd->add_option("--strategy", o.strategy, "A strategy (`lnbench params --strategy all` lists them) or a combination A+B (default ln)");
  cmd->add_option("--data", a.data, "LLaVA JSON: [{id, image, conversations: [{from, value}]}]")->required();
  cmd->add_option("--images", a.images, "Folder the samples' image paths are relative to");
  cmd->add_option("--out", a.out, "Output folder: checkpoint/, train.json (resumed when it holds a checkpoint)")->required();
  cmd->add_option("--init-checkpoint", a.init, "A checkpoint applied before training (e.g. the stage-1 connector)");
  cmd->add_option("--template", o.template_name, "vicuna_v1 (default) | llava_llama_2 | plain (pretrain captions)");
  cmd->add_option("--lr", a.lr, "Learning rate, or a comma-separated list for a sweep (default 2e-5)");
  cmd->add_option("--epochs", o.epochs, "Passes over the data (default 1)");
  cmd->add_option("--max-steps", o.max_steps, "Stop after this many optimizer steps (overrides --epochs)");
  cmd->add_option("--batch-size", o.batch_size, "Samples per micro-batch per process (default 4)");
  cmd->add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step (default 1)");
  cmd->add_option("--max-length", o.max_length, "Tokens per sample after image expansion (default 2048)");
  cmd->add_option("--seed", o.seed, "Seed of init, shuffling and dropout (default 42)");
  cmd->add_option("--warmup-ratio", o.optim.warmup_ratio, "Cosine schedule warmup fraction (default 0.03)");
  cmd->add_option("--weight-decay", o.optim.weight_decay, "AdamW weight decay (default 0)");
  cmd->add_option("--no-decay", a.no_decay, "Comma-separated name parts excluded from decay (default bias,norm)");
  cmd->add_option("--adam-beta1", o.optim.beta1, "AdamW beta1 (default 0.9)");
  cmd->add_option("--adam-beta2", o.optim.beta2, "AdamW beta2 (default 0.999)");
  cmd->add_option("--adam-eps", o.optim.eps, "AdamW epsilon (default 1e-8)");
  cmd->add_option("--max-grad-norm", o.optim.max_grad_norm, "Global gradient-norm clip, 0 = off (default 1.0)");
  cmd->add_option("--lora-rank", o.lora.rank, "LoRA rank (default 64)");
  cmd->add_option("--lora-alpha", o.lora.alpha, "LoRA alpha (default 16)");
  cmd->add_option("--lora-dropout", o.lora.dropout, "LoRA dropout (default 0.05)");
  cmd->add_option("--lora-targets", a.lora_targets, "Comma-separated block linears (default all seven)");
  cmd->add_option("--adapter-placement", o.adapter.placement, "pfeiffer (default) | houlsby | parallel");
  cmd->add_option("--adapter-reduction", o.adapter.reduction, "Adapter bottleneck = hidden size / this (default 16)");
  cmd->add_option("--adapter-non-linearity", o.adapter.non_linearity, "relu (default) | gelu | silu | tanh");
  cmd->add_option("--adapter-scaling", o.adapter.scaling, "Adapter output scaling (default 1; mam uses 4)");
  cmd->add_option("--prefix-length", o.prefix.length, "Prefix-tuning virtual tokens per layer (default 30)");
  cmd->add_option("--prefix-projection", o.prefix.projection,
                  "Prefix reparameterisation MLP width while training, 0 = none (default 0)");
  cmd->add_flag("--gradient-checkpointing", o.gradient_checkpointing, "Recompute decoder-layer activations in backward");
  cmd->add_flag("--tf32", o.tf32, "Allow TF32 matmuls on CUDA");
  cmd->add_option("--dtype", o.dtype, "fp32 (default) | bf16 | fp16 (CUDA)");
  cmd->add_option("--device", o.device, "cpu (default) | cuda | cuda:N (under torchrun: cuda:LOCAL_RANK)");
  cmd->add_option("--save-every", o.save_every, "Checkpoint every N optimizer steps (default: at the end)");
  cmd->add_flag("--no-resume", a.no_resume, "Start over even when --out holds a checkpoint");
  cmd->add_flag("--no-peft", a.no_peft, "Do not write the PEFT adapter next to the checkpoint");
  cmd->add_flag("--no-checkpoint", a.no_checkpoint, "Measure only: write train.json but no final checkpoint");
  cmd->add_flag("--quiet", a.quiet, "No progress output");
  cmd->add_option("--select-task", a.select_task,
                  "LR sweep: pick the best rate by this task's metric (e.g. flickr30k) instead of the final loss");
  cmd->add_option("--select-data", a.select_data, "LR sweep: the selection task's official files (data root)");
  cmd->add_option("--select-metric", a.select_metric, "LR sweep: a metrics.json value, higher is better (e.g. cider)");
  cmd->add_option("--select-limit", a.select_limit, "LR sweep: evaluate at least this many requests (0 = all)");
  cmd->add_option("--select-batch-size", a.select_batch_size, "LR sweep: evaluation batch size (default 8)");
  cmd->callback([&exit_code] {
    try {
      if (!a.select_task.empty() && (a.select_data.empty() || a.select_metric.empty()))
        throw std::invalid_argument("--select-task needs --select-data and --select-metric");
      training::TrainOptions opt = a.o;
      opt.model_dir = a.model;
      opt.vision_tower = a.vision_tower;
      opt.data_file = a.data;
      opt.image_dir = a.images;
      opt.init_checkpoint = a.init;
      opt.resume = !a.no_resume;
      opt.peft_adapter = !a.no_peft;
      opt.save_final = !a.no_checkpoint;
      auto split = [](const std::string& s) {
        std::vector<std::string> v;
        std::stringstream in(s);
        for (std::string x; std::getline(in, x, ',');)
          if (!x.empty()) v.push_back(x);
        return v;
      };
      if (!a.lora_targets.empty()) opt.lora.targets = split(a.lora_targets);
      if (!a.no_decay.empty()) opt.optim.no_decay = split(a.no_decay);
      const training::DistEnv env = training::dist_env();
      if (env.world_size > 1 && opt.device.rfind("cuda", 0) == 0) opt.device = "cuda:" + std::to_string(env.local_rank);
      training::Dist dist(env, c10::Device(opt.device));
      const std::vector<double> rates = parse_rates(a.lr);
      const bool by_task = !a.select_task.empty() && rates.size() > 1;
      nlohmann::ordered_json sweep = {{"schema", "lnbench.sweep/1"},
                                      {"select", by_task ? a.select_task + ":" + a.select_metric : "final_loss"},
                                      {"runs", nlohmann::json::array()}};
      std::unique_ptr<tasks::Task> select_task;
      if (by_task) {
        select_task = tasks::make_task(a.select_task);
        tasks::TaskOptions to;
        if (a.select_limit > 0) to.limit = a.select_limit;
        select_task->load(a.select_data, to);
      }
      double best = std::numeric_limits<double>::infinity();  // minimised: loss, or -metric
      for (double lr : rates) {
        training::TrainOptions run = opt;
        run.optim.lr = lr;
        run.out_dir = rates.size() == 1 ? std::filesystem::path(a.out) : std::filesystem::path(a.out) / rate_name(lr);
        StepProgress progress(a.quiet || !dist.is_main(), rates.size() == 1 ? opt.strategy : opt.strategy + " " + rate_name(lr));
        const nlohmann::json j = training::train(run, dist, std::ref(progress));
        const auto& curve = j["loss_curve"];
        const double final_loss = curve.empty() ? std::numeric_limits<double>::infinity() : curve.back()["loss"].get<double>();
        nlohmann::ordered_json entry = {{"lr", lr}, {"out", run.out_dir.string()}, {"final_loss", final_loss}};
        double key = final_loss;
        if (by_task) {
          // The rate's checkpoint over the base, evaluated like `lnbench eval` (same evaluator).
          // The base is loaded per rate rather than kept resident: a second copy of the
          // weights during the next rate's training would double its memory. The vision
          // features come from the shared disk cache after the first rate.
          model::LoadedModel m = model::load_model(opt.model_dir, load_options(opt.vision_tower, opt.dtype, c10::Device(opt.device)));
          training::apply_delta(m, run.out_dir / "checkpoint");
          EvalSettings es;
          es.batch_size = a.select_batch_size;
          es.batch_check = 0;
          es.feature_cache = default_feature_cache();
          es.template_name = opt.template_name == "plain" ? "vicuna_v1" : opt.template_name;
          es.identity = answers_identity(opt.model_dir, run.out_dir / "checkpoint");
          Evaluator ev(m, dist, es);
          const std::filesystem::path dir = run.out_dir / ("select-" + a.select_task);
          ev.evaluate(*select_task, dir, {});
          double value = -std::numeric_limits<double>::infinity();
          if (dist.is_main()) {
            const nlohmann::json metrics = common::read_json((dir / "metrics.json").string());
            const auto& values = metrics.at("values");
            if (!values.contains(a.select_metric)) {
              std::string names;
              for (const auto& [k, v] : values.items()) names += (names.empty() ? "" : ", ") + k;
              throw std::invalid_argument("--select-metric '" + a.select_metric + "': " + a.select_task +
                                          "'s metrics.json has no such value (it has " + names + ")");
            }
            if (values[a.select_metric].is_number()) value = values[a.select_metric].get<double>();
          }
          entry[a.select_metric] = value;
          key = -value;
        }
        sweep["runs"].push_back(entry);
        if (key < best || !sweep.contains("best")) best = key, sweep["best"] = {{"lr", lr}, {"out", run.out_dir.string()}};
        if (dist.is_main() && a.quiet == false && rates.size() == 1)
          std::cout << "trained " << opt.strategy << ": " << j["trainable_params"] << " trainable of " << j["total_params"]
                    << ", peak " << j["peak_train_memory_bytes"] << " bytes, final loss " << final_loss << " -> " << a.out << "\n";
      }
      if (rates.size() > 1 && dist.is_main()) {
        common::write_file_atomic(std::filesystem::path(a.out) / "sweep.json", sweep.dump(2) + "\n");
        std::cout << sweep.dump(2) << "\n";
      }
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench train: " << error_text(e) << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

void register_merge(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model, checkpoint, out, vision_tower;
    bool allow_base_mismatch = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("merge", "Write a full HF checkpoint from base + delta");
  cmd->add_option("--model", a.model, "Base model folder")->required();
  cmd->add_option("--checkpoint", a.checkpoint, "Checkpoint folder written by lnbench train")->required();
  cmd->add_option("--out", a.out, "Output folder: the base's files with model.safetensors merged")->required();
  cmd->add_option("--vision-tower", a.vision_tower, "CLIP folder for original LLaVA");
  cmd->add_flag("--allow-base-mismatch", a.allow_base_mismatch,
                "Merge a checkpoint whose meta.json names another base model (refused by default)");
  cmd->callback([&exit_code] {
    try {
      model::LoadOptions lo;
      lo.vision_tower = a.vision_tower;
      training::merge_checkpoint(a.model, a.checkpoint, a.out, lo, a.allow_base_mismatch);
      std::cout << "merged " << a.checkpoint << " into " << a.out << "\n";
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench merge: " << error_text(e) << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

}  // namespace lnb::harness
