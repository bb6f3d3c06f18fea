#!/usr/bin/env python3
"""Head-to-head training step: lnbench train against transformers + PEFT (LoraConfig,
LNTuningConfig, PrefixTuningConfig; plain transformers for full finetuning and BitFit;
bottleneck adapters hooked onto transformers' LLaMA sublayers as train_oracle.py's
reference does, since PEFT has no bottleneck adapter) on the same weights, data and batch,
CPU, one run. Prefix strategies: 30 virtual tokens; adapters: reduction 16.

Model: the hf_oracle tiny llava-hf family at 224 px (256 image tokens) scaled to
--hidden/--layers with a --vocab row embedding, random weights. Data: 24 vicuna_v1
samples, each with its own drawn image (no image repeats, so neither side can reuse
vision features), labels masked as LLaVA does. Both sides: batch 4, 6 optimizer steps,
AdamW lr 1e-4, cosine, clip 1.0, LoRA r=64 alpha=16 dropout 0.05 on the seven LLaMA
linears + trainable projector/embed/head (the paper's setting).

Memory: both sides are measured by the same counter - lnbench's counting CPU allocator,
which this script loads into the PEFT process from build/lib/liblnbench_torch.so
(ctypes) before any tensor exists; peak live tensor bytes over the 6 steps, model
weights included. Step time: mean of steps 2..6 (step 1 allocates optimizer state).

Usage: compare_train.py --lnbench build/bin/lnbench [--threads 2]
"""
import argparse
import ctypes
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model"))
sys.path.insert(0, os.path.join(HERE, "..", "training"))

STRATEGIES = ["ln-simple", "ln", "lora", "full", "bitfit", "adapter", "adapter+ln", "prefix", "prefix+ln", "mam"]
BASE_TO_SAVE = ["multi_modal_projector", "embed_tokens", "lm_head"]
NORMS = ["input_layernorm", "post_attention_layernorm", "language_model.norm"]
STEPS, BATCH = 6, 4


def build(d, hidden, layers, vocab):
    import torch
    import hf_oracle
    from PIL import Image, ImageDraw
    from transformers import LlavaConfig, LlavaForConditionalGeneration
    hf_oracle.train_tokenizer(os.path.join(d, "tokenizer.model"))
    os.makedirs(os.path.join(d, "images"), exist_ok=True)
    rng = random.Random(0)
    colors = ["red", "blue", "green", "yellow", "purple"]
    data = []
    for i in range(24):
        img = Image.new("RGB", (rng.randint(180, 320), rng.randint(180, 320)), "white")
        dr = ImageDraw.Draw(img)
        for _ in range(rng.randint(1, 4)):
            x, y = rng.randint(0, 150), rng.randint(0, 150)
            dr.ellipse([x, y, x + 30, y + 30], fill=rng.choice(colors))
        img.save(os.path.join(d, "images", f"{i}.png"))
        data.append({"id": str(i), "image": f"{i}.png", "conversations": [
            {"from": "human", "value": "<image>\nWhat shapes are in the picture and what colours do they have?"},
            {"from": "gpt", "value": "there are three green triangles on the left of a yellow star and a red circle"}]})
    json.dump(data, open(os.path.join(d, "data.json"), "w"))
    torch.manual_seed(0)
    tc = hf_oracle.llama_config(vocab, gqa=True, theta=10000.0)
    tc.hidden_size, tc.intermediate_size, tc.num_hidden_layers = hidden, hidden * 3, layers
    tc.head_dim = hidden // tc.num_attention_heads
    cfg = LlavaConfig(vision_config=hf_oracle.clip_config(224), text_config=tc, image_token_index=vocab - 2,
                      pad_token_id=vocab - 1)
    mdir = os.path.join(d, "model")
    LlavaForConditionalGeneration(cfg).save_pretrained(mdir)
    hf_oracle.processor(224).save_pretrained(mdir)
    os.link(os.path.join(d, "tokenizer.model"), os.path.join(mdir, "tokenizer.model"))
    return mdir


def peft_worker(d, strategy, plugin, threads):
    """One strategy in a fresh process; prints a JSON line."""
    lib = ctypes.CDLL(plugin)
    lib.lnb_memory_peak_bytes.restype = ctypes.c_longlong
    lib.lnb_memory_install()  # before any tensor exists
    import torch
    torch.set_num_threads(threads)
    import train_oracle
    import hf_oracle
    from PIL import Image
    from peft import LNTuningConfig, LoraConfig, PrefixTuningConfig, get_peft_model
    from transformers import LlavaForConditionalGeneration, get_cosine_schedule_with_warmup
    mdir = os.path.join(d, "model")
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    image_token, pad = cfg["image_token_index"] if "image_token_index" in cfg else cfg["image_token_id"], cfg["text_config"]["pad_token_id"]
    lab = os.path.join(d, "labels.json")
    if not os.path.exists(lab):
        train_oracle.labels(os.path.join(d, "data.json"), os.path.join(mdir, "tokenizer.model"), "vicuna_v1", lab)
    samples = json.load(open(lab))
    proc = hf_oracle.processor(224)
    torch.manual_seed(42)
    model = LlavaForConditionalGeneration.from_pretrained(mdir, torch_dtype=torch.float32)
    for p in model.parameters():
        p.requires_grad_(False)
    if strategy == "lora":
        model = get_peft_model(model, LoraConfig(
            r=64, lora_alpha=16, lora_dropout=0.05, bias="none", task_type="CAUSAL_LM",
            target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)",
            modules_to_save=["multi_modal_projector", "embed_tokens", "lm_head"]))
    elif strategy in ("ln", "ln-simple"):
        targets = ["input_layernorm", "post_attention_layernorm", "norm"]
        if strategy == "ln":
            targets += ["multi_modal_projector", "embed_tokens", "lm_head"]
        model = get_peft_model(model, LNTuningConfig(target_modules=targets, task_type="CAUSAL_LM"))
    elif strategy in ("prefix", "prefix+ln", "mam"):
        to_save = BASE_TO_SAVE + (NORMS if strategy == "prefix+ln" else [])
        base = model
        model = get_peft_model(model, PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=30,
                                                         modules_to_save=to_save))
        if strategy == "mam":
            hooked = train_oracle.bottleneck_hooks(base, "parallel", cfg["text_config"]["hidden_size"] // 16, 4.0)
            for i, a in enumerate(hooked.values()):
                model.add_module(f"mam_adapter_{i}", a)
    elif strategy in ("adapter", "adapter+ln"):
        hooked = train_oracle.bottleneck_hooks(model, "pfeiffer", cfg["text_config"]["hidden_size"] // 16, 1.0)
        for i, a in enumerate(hooked.values()):
            model.add_module(f"bottleneck_{i}", a)
        for n, p in model.named_parameters():
            on = "bottleneck_" in n or any(k in n for k in ("multi_modal_projector", "embed_tokens", "lm_head"))
            if strategy == "adapter+ln":
                on = on or ("layernorm" in n and "vision_tower" not in n) or n.endswith("language_model.norm.weight")
            p.requires_grad_(on)
    elif strategy == "bitfit":  # every bias: on LLaVA the connector's only
        for n, p in model.named_parameters():
            p.requires_grad_(n.endswith(".bias") and "vision_tower" not in n)
    else:  # full: plain transformers, the LLM and the projector train
        for n, p in model.named_parameters():
            p.requires_grad_("vision_tower" not in n)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    sched = get_cosine_schedule_with_warmup(opt, math.ceil(0.03 * STEPS), STEPS)
    n_patches = 256
    batches = []
    for b in range(STEPS):
        rows = samples[b * BATCH:(b + 1) * BATCH]
        ids, labels = [], []
        for r in rows:
            i2, l2 = [], []
            for t, l in zip(r["input_ids"], r["labels"]):
                if t == -200:
                    i2 += [image_token] * n_patches
                    l2 += [-100] * n_patches
                else:
                    i2.append(t)
                    l2.append(l)
            ids.append(i2)
            labels.append(l2)
        T = max(len(x) for x in ids)
        att = [[1] * len(x) + [0] * (T - len(x)) for x in ids]
        ids = [x + [pad] * (T - len(x)) for x in ids]
        labels = [x + [-100] * (T - len(x)) for x in labels]
        px = torch.stack([proc(Image.open(os.path.join(d, "images", r["id"] + ".png")).convert("RGB"),
                               return_tensors="pt")["pixel_values"][0] for r in rows])
        batches.append((torch.tensor(ids), torch.tensor(att), torch.tensor(labels), px))
    lib.lnb_memory_reset_peak()
    times, losses = [], []
    for ids, att, labels, px in batches:
        t0 = time.perf_counter()
        out = model(input_ids=ids, attention_mask=att, pixel_values=px, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        losses.append(out.loss.item())
    print(json.dumps({"strategy": strategy, "trainable": trainable, "step_s": sum(times[1:]) / (len(times) - 1),
                      "peak_bytes": lib.lnb_memory_peak_bytes(), "losses": losses}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--worker", nargs=3, metavar=("DIR", "STRATEGY", "PLUGIN"))
    args = ap.parse_args()
    if args.worker:
        peft_worker(args.worker[0], args.worker[1], args.worker[2], args.threads)
        return
    d = tempfile.mkdtemp(prefix="lnb-train-bench-")
    mdir = build(d, args.hidden, args.layers, args.vocab)
    plugin = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.lnbench))), "lib", "liblnbench_torch.so")
    rows = []
    for s in STRATEGIES:
        out = os.path.join(d, "lnb-" + s)
        subprocess.run([args.lnbench, "train", "--model", mdir, "--data", os.path.join(d, "data.json"), "--images",
                        os.path.join(d, "images"), "--out", out, "--strategy", s, "--batch-size", str(BATCH),
                        "--max-steps", str(STEPS), "--lr", "1e-4", "--lora-rank", "64", "--lora-alpha", "16",
                        "--lora-dropout", "0.05", "--prefix-length", "30", "--adapter-reduction", "16", "--no-peft",
                        "--quiet", "--no-resume"],
                       check=True, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
        lnb = json.load(open(os.path.join(out, "train.json")))
        steps = [r["seconds"] for r in lnb["loss_curve"]]
        peft = json.loads(subprocess.run([sys.executable, __file__, "--worker", d, s, plugin, "--threads", str(args.threads)],
                                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        row = {"strategy": s, "lnbench_trainable": lnb["trainable_params"], "peft_trainable": peft["trainable"],
               "lnbench_step_s": sum(steps[1:]) / (len(steps) - 1), "peft_step_s": peft["step_s"],
               "lnbench_peak_bytes": lnb["peak_train_memory_bytes"], "peft_peak_bytes": peft["peak_bytes"],
               "lnbench_loss_step1": lnb["loss_curve"][0]["loss"], "peft_loss_step1": peft["losses"][0]}
        row["speedup"] = row["peft_step_s"] / row["lnbench_step_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| strategy | trainable (lnbench / PEFT) | step s lnbench | step s PEFT | speed-up | peak MiB lnbench | peak MiB PEFT |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['strategy']} | {r['lnbench_trainable']:,} / {r['peft_trainable']:,} | {r['lnbench_step_s']:.3f} | "
              f"{r['peft_step_s']:.3f} | {r['speedup']:.2f}x | {r['lnbench_peak_bytes'] / 2**20:.1f} | "
              f"{r['peft_peak_bytes'] / 2**20:.1f} |")


if __name__ == "__main__":
    main()
