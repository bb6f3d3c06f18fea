#!/usr/bin/env python3
"""Reference computations for training/, by the libraries lnbench must agree with.

  train_oracle.py adamw OUT.safetensors
      torch.optim.AdamW (param groups: decay 0.1 / excluded 0) for 5 steps under
      transformers' get_cosine_schedule_with_warmup(10 steps, 3 warmup), gradients drawn
      from a fixed seed; writes the initial params, the gradients, the params after the
      5 steps and the schedule's multipliers.
  train_oracle.py labels DATA.json TOKENIZER.model TEMPLATE OUT.json
      LLaVA's preprocess_v1 / preprocess_llama_2 / preprocess_plain (llava/train/train.py)
      over the slow LLaMA tokenizer semantics: input_ids and labels per sample.
  train_oracle.py peft BASE_DIR ADAPTER_DIR MERGED_DIR OUT.safetensors
      transformers' LlavaForConditionalGeneration + PeftModel.from_pretrained(adapter) and
      the merged folder loaded alone: prompt logits of BASE_DIR/ref.safetensors' prompt
      and image, and PEFT's trainable-parameter count of the adapter (is_trainable=True).
  train_oracle.py peft_make KIND BASE_DIR ADAPTER_DIR OUT.safetensors
      an adapter PEFT makes and saves itself (KIND lora | rslora | patterns | ln | prefix), its
      logits on the reference prompt and its trainable count.
  train_oracle.py llava_make BASE_DIR OUT_DIR OUT.safetensors
      a LoRA run saved as LLaVA's train.py saves one (save_llava_lora below transcribes
      it), with the logits of the same weights in PEFT.
  train_oracle.py full_make BASE_DIR OUT_DIR OUT.safetensors
      a full fine-tune (every language-model and projector weight moved) saved by
      transformers' save_pretrained, its logits and the number of elements that moved.
  train_oracle.py injected_ref KIND BASE_DIR OUT.safetensors
      step-1 loss and gradients on the reference prompt and image with injected modules
      under their reference implementations (KIND prefix | prefix-mlp | pfeiffer |
      houlsby | parallel | mam): PEFT's PrefixTuning (with prefix_projection for
      prefix-mlp) and bottleneck adapters attached to transformers' LLaMA sublayers by
      forward hooks (bottleneck_hooks below: Pfeiffer after the MLP, Houlsby after
      attention too, He et al.'s parallel adapter fed the MLP's input; mam = PEFT's prefix
      + a parallel adapter at scaling 4). Also the gradients of the connector's first bias
      and two norms (bitfit, ln-attn, ln-ffn). Writes the weights (w.NAME, lnbench's
      canonical names), the loss and the gradients (g.NAME).
  train_oracle.py peft_prefix BASE_DIR ADAPTER_DIR OUT.safetensors
      PeftModel.from_pretrained(adapter) of a PREFIX_TUNING adapter: its prompt logits on
      the reference prompt and image.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracles"))
sys.path.insert(0, os.path.join(HERE, "..", "model"))

IGNORE = -100
IMAGE_SLOT = -200


def adamw(out):
    from transformers import get_cosine_schedule_with_warmup
    g = torch.Generator().manual_seed(7)
    shapes = {"a.weight": (5, 3), "b.norm.weight": (4,), "c.bias": (3,)}
    params = {k: torch.randn(s, generator=g, dtype=torch.float32) for k, s in shapes.items()}
    ref = {"init." + k: v.clone() for k, v in params.items()}
    live = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
    decay = [live["a.weight"]]
    no_decay = [live["b.norm.weight"], live["c.bias"]]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=math.ceil(10 * 0.3), num_training_steps=10)
    mults = []
    for step in range(5):
        mults.append(sched.get_last_lr()[0] / 1e-2)
        for k, p in live.items():
            grad = torch.randn(p.shape, generator=g, dtype=torch.float32)
            ref[f"grad.{k}.{step}"] = grad.clone()
            p.grad = grad
        opt.step()
        sched.step()
    for k, p in live.items():
        ref["final." + k] = p.detach().clone()
    ref["multipliers"] = torch.tensor(mults, dtype=torch.float64)
    # HF's cosine with a floor (min_lr_rate), every step of 10 with 3 of warmup.
    from transformers.optimization import get_cosine_with_min_lr_schedule_with_warmup
    dummy = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    floor = get_cosine_with_min_lr_schedule_with_warmup(dummy, 3, 10, min_lr_rate=0.1)
    floored = []
    for _ in range(10):
        floored.append(floor.get_last_lr()[0])
        dummy.step()
        floor.step()
    ref["multipliers_min_lr_0.1"] = torch.tensor(floored, dtype=torch.float64)
    save_file(ref, out)


def labels(data_file, tokenizer_file, template, out):
    import sentencepiece as spm
    from hf_oracle import tokenizer_image_token
    from llava_conversation import get_prompt
    sp = spm.SentencePieceProcessor(model_file=tokenizer_file)

    def tok(text, has_image):
        ids = tokenizer_image_token(sp, text)
        if not has_image:
            assert IMAGE_SLOT not in ids
        return ids

    results = []
    for source in json.load(open(data_file)):
        convs = [dict(c) for c in source["conversations"]]
        has_image = "image" in source
        if has_image:  # preprocess_multimodal (mm_use_im_start_end False)
            for c in convs:
                if "<image>" in c["value"]:
                    c["value"] = ("<image>\n" + c["value"].replace("<image>", "").strip()).strip()
        if template == "plain":  # preprocess_plain
            head = "<image>" if has_image else ""
            conversation = head + convs[1]["value"] + "\n"
            ids = tok(conversation, has_image)
            target = list(ids)
            for i in range(len(tok(head, has_image))):
                target[i] = IGNORE
            results.append({"id": source["id"], "input_ids": ids, "labels": target})
            continue
        roles = ("USER", "ASSISTANT")
        messages = [(roles[i % 2], c["value"]) for i, c in enumerate(convs)]
        conversation = get_prompt(template, messages)
        ids = tok(conversation, has_image)
        target = list(ids)
        sep = " ASSISTANT: " if template == "vicuna_v1" else "[/INST] "
        rounds = conversation.split("</s>")
        cur_len = 1
        target[:cur_len] = [IGNORE] * cur_len
        for i, rou in enumerate(rounds):
            if rou == "":
                break
            parts = rou.split(sep)
            if len(parts) != 2:
                break
            parts[0] += sep
            round_len = len(tok(rou, has_image))
            instruction_len = len(tok(parts[0], has_image)) - 2
            for k in range(cur_len, min(cur_len + instruction_len, len(target))):
                target[k] = IGNORE
            cur_len += round_len
        for k in range(cur_len, len(target)):
            target[k] = IGNORE
        mismatch = cur_len != len(ids)
        if mismatch:
            target = [IGNORE] * len(ids)
        results.append({"id": source["id"], "input_ids": ids, "labels": target, "mismatch": mismatch})
    json.dump(results, open(out, "w"))


def reference_prompt(base_dir):
    """The oracle's reference prompt with its image slot expanded, and ref.safetensors."""
    ref = load_file(os.path.join(base_dir, "ref.safetensors"))
    n_patches = json.load(open(os.path.join(base_dir, "ref.json")))["n_patches"]
    config = json.load(open(os.path.join(base_dir, "config.json")))
    image_token = config["image_token_index"] if "image_token_index" in config else config["image_token_id"]
    ids = []
    for t in ref["prompt_ids"].tolist():
        ids += [image_token] * n_patches if t == IMAGE_SLOT else [t]
    return ids, ref


def peft_logits(base_dir, adapter_dir, merged_dir, out):
    from peft import PeftModel
    from transformers import LlavaForConditionalGeneration
    ids, ref = reference_prompt(base_dir)
    input_ids = torch.tensor([ids])
    pv = ref["pixel_values.wide"].unsqueeze(0)
    result = {}
    with torch.no_grad():
        base = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)
        trainable, total = model.get_nb_trainable_parameters()
        model.eval()
        result["peft_logits"] = model(input_ids=input_ids, pixel_values=pv).logits[0].contiguous()
        merged = LlavaForConditionalGeneration.from_pretrained(merged_dir, torch_dtype=torch.float32,
                                                               attn_implementation="eager")
        merged.eval()
        result["merged_logits"] = merged(input_ids=input_ids, pixel_values=pv).logits[0].contiguous()
    result["peft_trainable"] = torch.tensor([trainable], dtype=torch.int64)
    save_file(result, out)


def peft_make(kind, base_dir, adapter_dir, out):
    """An adapter made and saved by PEFT itself, with non-trivial weights, and the logits
    PEFT computes with it on the reference prompt (lnbench must read it and agree)."""
    from peft import LNTuningConfig, LoraConfig, PrefixTuningConfig, get_peft_model
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(7)
    ids, ref = reference_prompt(base_dir)
    base = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
    if kind in ("lora", "rslora"):
        cfg = LoraConfig(r=4, lora_alpha=8, target_modules=r".*language_model.*\.(q_proj|v_proj|down_proj)",
                         init_lora_weights=False, use_rslora=kind == "rslora",
                         modules_to_save=["multi_modal_projector"] if kind == "lora" else None)
    elif kind == "patterns":
        # Per-module ranks and alphas; two rank patterns match layer 0's q_proj and the
        # first listed wins (PEFT's get_pattern_key).
        cfg = LoraConfig(r=4, lora_alpha=8, target_modules=r".*language_model.*\.(q_proj|v_proj|down_proj)",
                         init_lora_weights=False,
                         rank_pattern={"layers.0.self_attn.q_proj": 3, "q_proj": 2, "layers\\.1\\..*v_proj": 6},
                         alpha_pattern={"down_proj": 3.0, "language_model.layers.0.self_attn.v_proj": 20.0})
    elif kind == "prefix":
        cfg = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4, modules_to_save=["multi_modal_projector"])
    else:
        cfg = LNTuningConfig(target_modules=["input_layernorm", "post_attention_layernorm", "norm"])
    model = get_peft_model(base, cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad and ("ln_tuning" in name or "modules_to_save" in name):
                p.add_(0.05 * torch.randn_like(p))  # LN tuning and saved modules start as copies: move them
    model.eval()
    trainable, _ = model.get_nb_trainable_parameters()
    with torch.no_grad():
        input_ids = torch.tensor([ids])
        logits = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                       pixel_values=ref["pixel_values.wide"].unsqueeze(0)).logits[0]
    model.save_pretrained(adapter_dir)
    save_file({"peft_logits": logits.contiguous(), "peft_trainable": torch.tensor([trainable], dtype=torch.int64)}, out)


def to_llava_original(key):
    """A transformers llava key (>= 4.52 layout) as LLaVA's LlavaLlamaForCausalLM names it."""
    for hf, orig in (("model.language_model.", "model."), ("model.multi_modal_projector.linear_1.", "model.mm_projector.0."),
                     ("model.multi_modal_projector.linear_2.", "model.mm_projector.2."),
                     ("model.multi_modal_projector.linear.", "model.mm_projector.")):
        if hf in key:
            return key.replace(hf, orig, 1)
    return key


def save_llava_lora(model, output_dir, llava_config):
    """LLaVA's train.py at the end of train() when lora_enable (liuhaotian/LLaVA,
    llava/train/train.py: get_peft_state_maybe_zero_3(named_parameters, lora_bias="none"),
    get_peft_state_non_lora_maybe_zero_3, config.save_pretrained, model.save_pretrained with
    that state dict, torch.save(non_lora_state_dict, "non_lora_trainables.bin")), over a
    PEFT model whose parameter names are first mapped to LLaVA's own module tree. PEFT of
    LLaVA's time wrote the adapter as adapter_model.bin (torch.save), without the adapter
    name in the keys."""
    named = [(to_llava_original(k), p) for k, p in model.named_parameters()]
    lora = {k.replace(".default", ""): p.detach().cpu().clone() for k, p in named if "lora_" in k}
    non_lora = {k: p.detach().cpu().clone() for k, p in named if "lora_" not in k and p.requires_grad}
    os.makedirs(output_dir, exist_ok=True)
    json.dump(llava_config, open(os.path.join(output_dir, "config.json"), "w"), indent=2)
    model.peft_config["default"].save_pretrained(output_dir)
    torch.save(lora, os.path.join(output_dir, "adapter_model.bin"))
    torch.save(non_lora, os.path.join(output_dir, "non_lora_trainables.bin"))


def llava_make(base_dir, out_dir, out):
    from peft import LoraConfig, get_peft_model
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(11)
    ids, ref = reference_prompt(base_dir)
    base = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
    # LLaVA's find_all_linear_names: every nn.Linear outside the tower and the projector.
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05, bias="none", task_type="CAUSAL_LM", init_lora_weights=False,
                     target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)")
    model = get_peft_model(base, cfg)
    with torch.no_grad():  # LLaVA trains the projector outside LoRA (tune_mm_mlp_adapter / mm_projector_lr)
        for name, p in model.named_parameters():
            if "multi_modal_projector" in name:
                p.requires_grad_(True)
                p.add_(0.05 * torch.randn_like(p))
    model.eval()
    trainable = sum(p.numel() for _, p in model.named_parameters() if p.requires_grad)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), pixel_values=ref["pixel_values.wide"].unsqueeze(0)).logits[0]
    text = model.config.text_config
    proj = json.load(open(os.path.join(base_dir, "config.json"))).get("projector_hidden_act", "gelu")
    llava_config = {"architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava_llama",
                    "hidden_size": text.hidden_size, "num_hidden_layers": text.num_hidden_layers,
                    "mm_projector_type": "mlp2x_gelu" if proj == "gelu" else "linear",
                    "mm_hidden_size": model.config.vision_config.hidden_size,
                    "mm_vision_tower": "openai/clip-vit-large-patch14-336", "mm_use_im_start_end": False,
                    "mm_use_im_patch_token": False, "image_aspect_ratio": "pad"}
    save_llava_lora(model, out_dir, llava_config)
    save_file({"peft_logits": logits.contiguous(), "peft_trainable": torch.tensor([trainable], dtype=torch.int64)}, out)


def full_make(base_dir, out_dir, out):
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(13)
    ids, ref = reference_prompt(base_dir)
    model = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
    moved = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "vision_tower" not in name:
                p.add_(0.02 * torch.randn_like(p))
                moved += p.numel()
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), pixel_values=ref["pixel_values.wide"].unsqueeze(0)).logits[0]
    model.save_pretrained(out_dir)
    save_file({"logits": logits.contiguous(), "moved": torch.tensor([moved], dtype=torch.int64)}, out)


class Bottleneck(torch.nn.Module):
    """A bottleneck adapter as Houlsby et al. / Pfeiffer et al. define it: up(relu(down(x))) * s."""

    def __init__(self, dim, bottleneck, scaling):
        super().__init__()
        self.adapter_down = torch.nn.Linear(dim, bottleneck)
        self.adapter_up = torch.nn.Linear(bottleneck, dim)
        self.scaling = scaling

    def forward(self, x):
        return self.adapter_up(torch.relu(self.adapter_down(x))) * self.scaling


def bottleneck_hooks(llava, placement, bottleneck, scaling):
    """Adapters on every LLaMA layer by forward hooks; {canonical module name: adapter}."""
    adapters = {}
    for i, layer in enumerate(llava.model.language_model.layers):
        mlp_adapter = Bottleneck(layer.mlp.gate_proj.in_features, bottleneck, scaling)
        adapters[f"llm.layers.{i}.mlp_adapter"] = mlp_adapter
        if placement == "parallel":  # He et al.: beside the MLP, on the MLP's (normed) input
            layer.mlp.register_forward_hook(lambda mod, inp, out, a=mlp_adapter: out + a(inp[0]))
        else:  # sequential: on the MLP's output, with its own residual
            layer.mlp.register_forward_hook(lambda mod, inp, out, a=mlp_adapter: out + a(out))
        if placement == "houlsby":
            attn_adapter = Bottleneck(layer.mlp.gate_proj.in_features, bottleneck, scaling)
            adapters[f"llm.layers.{i}.attn_adapter"] = attn_adapter
            layer.self_attn.register_forward_hook(
                lambda mod, inp, out, a=attn_adapter: (out[0] + a(out[0]),) + tuple(out[1:]))
    return adapters


def injected_ref(kind, base_dir, out):
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(11)
    ids, ref = reference_prompt(base_dir)
    base = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
    for p in base.parameters():
        p.requires_grad_(False)
    weights = {}
    model = base
    if kind in ("prefix", "prefix-mlp", "mam"):
        from peft import PrefixTuningConfig, get_peft_model
        cfg = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5, prefix_projection=kind == "prefix-mlp",
                                 encoder_hidden_size=12)
        model = get_peft_model(base, cfg)
        for name, p in model.prompt_encoder["default"].named_parameters():
            weights["llm.prefix." + name] = p
    placement = {"pfeiffer": "pfeiffer", "houlsby": "houlsby", "parallel": "parallel", "mam": "parallel"}.get(kind)
    if placement:
        adapters = bottleneck_hooks(base, placement, 8, 4.0 if kind == "mam" else 1.0)
        for module, a in adapters.items():
            with torch.no_grad():
                for p in a.parameters():
                    p.normal_(0, 0.2)  # not the identity init: every gradient path carries signal
            for name, p in a.named_parameters():
                weights[module + "." + name] = p
    lm = base.model.language_model
    for canonical, p in (("projector.linear_1.bias", base.model.multi_modal_projector.linear_1.bias),
                         ("llm.layers.0.input_layernorm.weight", lm.layers[0].input_layernorm.weight),
                         ("llm.layers.1.post_attention_layernorm.weight", lm.layers[1].post_attention_layernorm.weight)):
        p.requires_grad_(True)
        weights[canonical] = p
    config = json.load(open(os.path.join(base_dir, "config.json")))
    image_token = config["image_token_index"] if "image_token_index" in config else config["image_token_id"]
    input_ids = torch.tensor([ids])
    labels = input_ids.clone()
    labels[input_ids == image_token] = IGNORE
    result = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                   pixel_values=ref["pixel_values.wide"].unsqueeze(0), labels=labels)
    result.loss.backward()
    saved = {"loss": result.loss.detach().reshape(1)}
    for name, p in weights.items():
        saved["w." + name] = p.detach().contiguous()
        saved["g." + name] = p.grad.detach().contiguous()
    save_file(saved, out)


def peft_prefix(base_dir, adapter_dir, out):
    from peft import PeftModel
    from transformers import LlavaForConditionalGeneration
    ids, ref = reference_prompt(base_dir)
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        base = LlavaForConditionalGeneration.from_pretrained(base_dir, torch_dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, adapter_dir)
        model.eval()
        logits = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                       pixel_values=ref["pixel_values.wide"].unsqueeze(0)).logits[0]
    save_file({"peft_logits": logits.contiguous()}, out)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "adamw":
        adamw(sys.argv[2])
    elif cmd == "labels":
        labels(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "peft":
        peft_logits(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "peft_make":
        peft_make(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "llava_make":
        llava_make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "full_make":
        full_make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "injected_ref":
        injected_ref(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "peft_prefix":
        peft_prefix(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
