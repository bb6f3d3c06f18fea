// `lnbench generate --model DIR [--checkpoint DIR] --image IMG --prompt TEXT [--template NAME]
// [--max-new-tokens N] [--dump-logits FILE.safetensors]`: one greedy answer, the way the
// evaluator produces them (same loader, preprocessing, template, tokenizer, decoder).
#include <chrono>
#include <cstdio>
#include <iostream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "harness/cli.h"
#include "harness/run_config.h"
#include "harness/torch_command.h"
#include "model/chat_template.h"
#include "model/generate.h"
#include "model/loader.h"
#include "model/safetensors.h"
#include "training/checkpoint.h"

namespace lnb::harness {


void register_generate(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model, checkpoint, vision_tower, image, prompt, template_name = "vicuna_v1", dump_logits;
    std::string dtype = "fp32", device = "cpu", cuda_graphs = "auto";
    int64_t max_new_tokens = 128;
    bool pad = false, json = false, allow_base_mismatch = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("generate", "Greedy generation for one image and prompt");
  cmd->add_option("--model", a.model, "Model folder (llava-hf, original LLaVA or LLaMA)")->required();
  cmd->add_option("--checkpoint", a.checkpoint, "Trained tensors to apply on top: an lnbench checkpoint folder (meta.json + model.safetensors), a PEFT adapter folder (LoRA or LN tuning), or a safetensors file");
  cmd->add_option("--vision-tower", a.vision_tower, "CLIP folder for original LLaVA (default: config's mm_vision_tower)");
  cmd->add_option("--image", a.image, "Image file; omit for a text-only prompt");
  cmd->add_option("--prompt", a.prompt, "User message; \"<image>\\n\" is prepended when it names no <image>")->required();
  cmd->add_option("--template", a.template_name, "vicuna_v1 (default) | llava_llama_2 | plain | vicuna_v0");
  cmd->add_option("--max-new-tokens", a.max_new_tokens, "Generation budget (default 128)")->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--dump-logits", a.dump_logits, "Write prompt and step logits (fp32) to this safetensors file");
  cmd->add_option("--dtype", a.dtype, "fp32 (default) | bf16 | fp16");
  cmd->add_option("--device", a.device, "cpu (default) | cuda | cuda:N");
  for (const OptionSpec& s : run_options())  // the evaluator's declaration, shared
    if (s.key == "eval.cuda_graphs")
      cmd->add_option("--cuda-graphs", a.cuda_graphs, option_help(s))->check(CLI::IsMember(s.choices));
  cmd->add_flag("--pad-to-square", a.pad, "LLaVA-1.5's image_aspect_ratio=pad (mean-colour square)");
  cmd->add_flag("--json", a.json, "One JSON object: text, tokens, stop reason, timings");
  cmd->add_flag("--allow-base-mismatch", a.allow_base_mismatch,
                "Apply a --checkpoint whose meta.json names another base model (refused by default)");
  cmd->callback([&exit_code] {
    try {
      const model::LoadOptions lo = load_options(a.vision_tower, a.dtype, c10::Device(a.device));
      const auto t0 = std::chrono::steady_clock::now();
      model::LoadedModel m = model::load_model(a.model, lo);
      if (!a.checkpoint.empty()) training::apply_delta(m, a.checkpoint, a.allow_base_mismatch);  // LoRA adapters injected as meta.json says
      const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string user = a.prompt;
      if (!a.image.empty() && user.find("<image>") == std::string::npos) user = "<image>\n" + user;
      if (a.image.empty() && user.find("<image>") != std::string::npos)
        throw std::invalid_argument("--prompt names <image> but no --image was given");
      const std::string text = model::render_chat(model::chat_template(a.template_name), {{user, std::nullopt}});
      model::GenerationRequest req;
      req.prompt = m.tokenizer->encode_with_image(text);
      const int64_t context = m.config.text.max_position_embeddings;
      if (a.max_new_tokens > context - static_cast<int64_t>(req.prompt.size()))
        throw std::invalid_argument("--max-new-tokens " + std::to_string(a.max_new_tokens) + ": expected at most " +
                                    std::to_string(context - static_cast<int64_t>(req.prompt.size())) +
                                    " (the model's max_position_embeddings " + std::to_string(context) + " minus the " +
                                    std::to_string(req.prompt.size()) + "-token prompt)");
      if (!a.image.empty()) {
        if (!m.config.has_vision) throw std::invalid_argument(a.model + ": a plain LLaMA model cannot take --image");
        model::ImageProcessorConfig ip = m.image;
        ip.pad_to_square = ip.pad_to_square || a.pad;
        const at::Tensor px = model::preprocess_image(model::decode_image(a.image), ip).unsqueeze(0);
        torch::NoGradGuard ng;
        req.image_features = m.model->vision_features(px.to(lo.device, lo.dtype));
      }
      model::Generator gen(m.model, *m.tokenizer, m.image_token_id, m.pad_id);
      gen.set_cuda_graphs(a.cuda_graphs == "on" || (a.cuda_graphs == "auto" && lo.device.is_cuda()));
      model::GenerationOptions opt;
      opt.max_new_tokens = a.max_new_tokens;
      opt.keep_logits = !a.dump_logits.empty();
      model::GenerationStats stats;
      const model::GenerationResult r = gen.generate({req}, opt, &stats)[0];
      if (!a.dump_logits.empty()) {
        std::vector<std::pair<std::string, at::Tensor>> t = {{"prompt_logits", r.prompt_logits}};
        if (r.step_logits.defined()) t.emplace_back("step_logits", r.step_logits);
        t.emplace_back("prompt_ids", at::tensor(req.prompt, at::kLong));
        t.emplace_back("tokens", at::tensor(r.tokens.empty() ? std::vector<int64_t>{} : r.tokens, at::kLong));
        model::save_safetensors(a.dump_logits, t);
      }
      if (a.json) {
        nlohmann::ordered_json j = {{"schema", "lnbench.generate/1"}, {"text", r.text}, {"tokens", r.tokens},
                                    {"stop_reason", r.stop_reason}, {"prompt_tokens", r.prompt_tokens},
                                    {"template", a.template_name}, {"prompt", text},
                                    {"load_seconds", load_s}, {"prefill_seconds", stats.prefill_seconds},
                                    {"decode_seconds", stats.decode_seconds}, {"decode_tokens", stats.decode_tokens},
                                    {"decode_steps", stats.decode_steps}, {"cuda_graph_replays", stats.graph_replays}};
        std::cout << j.dump(2) << "\n";
      } else {
        std::cout << r.text << "\n";
      }
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "lnbench generate: " << error_text(e) << "\n";
      exit_code = exit_code_for(e);
    }
  });
}

}  // namespace lnb::harness
