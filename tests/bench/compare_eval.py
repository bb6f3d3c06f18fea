#!/usr/bin/env python3
"""Head-to-head evaluation throughput: `lnbench eval` against lmms-eval's llava_hf way of
answering, on the same tiny llava-hf weights and the same POPE- and MME-format files, CPU,
one run.

The peer is driven exactly as lmms-eval 0.7.3's models/simple/llava_hf.py does it (it
cannot run here: lmms-eval needs its HF-hub datasets, and nothing can be downloaded):
batch size 1 (llava_hf asserts it), the vicuna chat template (the same text lnbench
renders: the peer takes lnbench's rendered prompt and checks it), the processor's CLIP
preprocessing and the vision tower per request, greedy generate with EOS as the stop,
batch_decode(skip_special_tokens=True). Answers must be identical after strip().

lnbench: `lnbench eval` as a user runs it (process start, model load, task files, a
cold vision-feature cache, batch 8), timed wall-clock around the whole command.

Usage: compare_eval.py --lnbench build/bin/lnbench [--threads 2] [--hidden 256 --layers 4]
Prints a JSON summary; exits 1 if any answer differs.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model"))
sys.path.insert(0, HERE)
import hf_oracle  # noqa: E402
import bench_llava  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def draw(path, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w, h = 320 + 37 * (seed % 5), 240 + 23 * (seed % 7)
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.ellipse([20 + 9 * (seed % 11), 30, 120 + 9 * (seed % 11), 130], fill=(40 * (seed % 6), 200, 255 - 30 * (seed % 8)))
    d.rectangle([150, 60 + 5 * (seed % 9), 260, 170], fill=(200, 30 * (seed % 8), 30))
    im.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    d = tempfile.mkdtemp(prefix="lnb-eval-bench-")
    fixture = os.path.join(HERE, "..", "data", "tasks", "fixture")
    for task in ("pope", "mme"):
        shutil.copytree(os.path.join(fixture, task), os.path.join(d, "data", task))
    for i, rel in enumerate(open(os.path.join(fixture, "images.txt")).read().split()):
        if rel.split("/")[0] in ("pope", "mme"):
            draw(os.path.join(d, "data", rel), i)

    model, mdir, sp, proc = bench_llava.make_model(d, args.hidden, args.layers)
    n_img = model.config.vision_config.image_size // model.config.vision_config.patch_size
    n_img *= n_img

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    summary = {"model": {"hidden": args.hidden, "layers": args.layers, "image_tokens": n_img, "threads": args.threads},
               "tasks": {}}
    ok = True
    for task in ("pope", "mme"):
        data = os.path.join(d, "data", task)
        listed = subprocess.run([args.lnbench, "score", "task", task, "--data", data, "--requests"], capture_output=True,
                                text=True, check=True, env=env).stdout
        reqs = [json.loads(line) for line in listed.splitlines() if line.strip()]
        out = os.path.join(d, "out_" + task)
        t0 = time.perf_counter()
        subprocess.run([args.lnbench, "eval", "--model", mdir, "--task", task, "--data", data, "--out", out,
                        "--batch-size", str(args.batch_size), "--feature-cache", os.path.join(d, "features"),
                        "--batch-check", "0", "--quiet"], check=True, env=env, stdout=subprocess.DEVNULL)
        lnb_s = time.perf_counter() - t0
        lnb = {}
        with open(os.path.join(out, "samples.jsonl")) as f:
            for line in f:
                j = json.loads(line)
                lnb[j["id"]] = j
        # The peer, request by request, as llava_hf.generate_until does.
        answers, t0 = {}, time.perf_counter()
        for r in reqs:
            user = r["turns"][-1]["user"]
            text = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                    "detailed, and polite answers to the user's questions. USER: " + user + " ASSISTANT:")
            assert text == lnb[r["id"]]["prompt"], (text, lnb[r["id"]]["prompt"])
            ids = []
            for t in hf_oracle.tokenizer_image_token(sp, text):
                ids += [400] * n_img if t == -200 else [t]
            px = proc(Image.open(r["image"]).convert("RGB"), return_tensors="pt")["pixel_values"]
            with torch.no_grad():
                g = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                   pixel_values=px, do_sample=False, num_beams=1, max_new_tokens=r["max_new_tokens"],
                                   pad_token_id=2, eos_token_id=2)
            answers[r["id"]] = sp.decode([t for t in g[0, len(ids):].tolist() if t < sp.get_piece_size()])
        peer_s = time.perf_counter() - t0
        same = sum(answers[i].strip() == lnb[i]["answer"] for i in answers)
        ok = ok and same == len(reqs)
        summary["tasks"][task] = {
            "requests": len(reqs), "images": len({r["image"] for r in reqs}),
            "lnbench_seconds": lnb_s, "lnbench_samples_per_s": len(reqs) / lnb_s,
            "peer_seconds": peer_s, "peer_samples_per_s": len(reqs) / peer_s,
            "speedup": peer_s / lnb_s, "identical_answers": same,
            "lnbench_eval_json": json.load(open(os.path.join(out, "eval.json")))}
    print(json.dumps(summary, indent=1))
    shutil.rmtree(d)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
