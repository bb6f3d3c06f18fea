#!/usr/bin/env python3
"""Head-to-head: lnbench's batched greedy generation against transformers'
LlavaForConditionalGeneration.generate on the same weights and inputs, CPU, one run.

Model: the hf_oracle tiny llava-hf model at 224-px geometry (256 image tokens), scaled up
to --hidden/--layers so the work is not only Python overhead. 8 prompts of mixed lengths,
one image each, --new-tokens greedy tokens, no EOS stop. transformers runs at batch 1
(its reference tokens) and batch 8 (left padding, attention mask, as lmms-eval does);
lnbench at batch 1 and 8. Tokens must be identical to transformers' batch-1 tokens.
Prints a JSON summary and a Markdown table row for BENCHMARKS.md.

Usage: compare_generate.py --driver build/tests/bench/generate_driver [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
import hf_oracle  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_llava  # noqa: E402

QUESTIONS = ["What shape is in the picture?", "How many red circles are there?",
             "Please provide a description of the picture.", "Is there a star?",
             "What color is the square on the left of the yellow triangle in this picture?", "Count the shapes.",
             "Where is the circle?", "Describe the picture in detail, mentioning every shape and its color."]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    d = tempfile.mkdtemp(prefix="lnb-gen-bench-")
    model, mdir, sp, proc = bench_llava.make_model(d, args.hidden, args.layers)
    hf_oracle.draw_images(os.path.join(d, "images"))
    from PIL import Image
    imgs = ["wide", "tall", "small"]
    prompts, pixels, expanded = {}, [], []
    for i, q in enumerate(QUESTIONS):
        text = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                "detailed, and polite answers to the user's questions. USER: <image>\n" + q + " ASSISTANT:")
        ids = hf_oracle.tokenizer_image_token(sp, text)
        px = proc(Image.open(os.path.join(d, "images", imgs[i % 3] + ".png")).convert("RGB"),
                  return_tensors="pt")["pixel_values"][0]
        prompts["prompt.%d" % i] = torch.tensor(ids, dtype=torch.int64)
        prompts["pixels.%d" % i] = px
        pixels.append(px)
        exp = []
        for t in ids:
            exp += [400] * 256 if t == -200 else [t]
        expanded.append(exp)
    save_file(prompts, os.path.join(d, "prompts.safetensors"))

    gen_kw = dict(max_new_tokens=args.new_tokens, min_new_tokens=0, do_sample=False, eos_token_id=None, pad_token_id=401)

    def hf_run(batch):
        out, t0 = [], time.perf_counter()
        for s in range(0, len(expanded), batch):
            rows = expanded[s:s + batch]
            L = max(len(r) for r in rows)
            ids = torch.tensor([[401] * (L - len(r)) + r for r in rows])
            mask = torch.tensor([[0] * (L - len(r)) + [1] * len(r) for r in rows])
            with torch.no_grad():
                g = model.generate(input_ids=ids, attention_mask=mask, pixel_values=torch.stack(pixels[s:s + batch]), **gen_kw)
            out += g[:, L:].tolist()
        return out, time.perf_counter() - t0

    hf = {}
    for b in (1, 8):
        hf_run(b)  # warm-up
        hf[b] = hf_run(b)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    res = subprocess.run([args.driver, mdir, os.path.join(d, "prompts.safetensors"), str(args.new_tokens), "1", "8"],
                         capture_output=True, text=True, env=env, check=True)
    lnb = json.loads(res.stdout)
    ref = hf[1][0]
    n_new = sum(len(t) for t in ref)
    summary = {
        "model": {"hidden": args.hidden, "layers": args.layers, "image_tokens": 256, "prompts": len(expanded),
                  "new_tokens": args.new_tokens, "threads": args.threads},
        "transformers": {str(b): {"seconds": hf[b][1], "tokens_per_s": n_new / hf[b][1],
                                  "identical_to_batch1": hf[b][0] == ref} for b in (1, 8)},
        "lnbench": {b: {"seconds": lnb[b]["total_seconds"], "tokens_per_s": n_new / lnb[b]["total_seconds"],
                        "prefill_tokens_per_s": lnb[b]["prefill_tokens"] / lnb[b]["prefill_seconds"],
                        "decode_tokens_per_s": lnb[b]["decode_tokens"] / lnb[b]["decode_seconds"],
                        "identical_to_transformers_batch1": lnb[b]["tokens"] == ref,
                        "decode_step_ops": lnb[b].get("decode_step_ops")} for b in ("1", "8")},
    }
    summary["speedup_batch8"] = summary["lnbench"]["8"]["tokens_per_s"] / summary["transformers"]["8"]["tokens_per_s"]
    summary["speedup_batch1"] = summary["lnbench"]["1"]["tokens_per_s"] / summary["transformers"]["1"]["tokens_per_s"]
    print(json.dumps(summary, indent=1))
    ok = all(v["identical_to_transformers_batch1"] for v in summary["lnbench"].values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
