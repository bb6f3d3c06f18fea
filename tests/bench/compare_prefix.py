#!/usr/bin/env python3
"""Prefill-bound evaluation throughput (issue 18): `lnbench eval` with prefix sharing
against transformers driven the llava_hf way and against transformers' batched generate,
on the same random llava-hf weights and the same POPE-format files, CPU, one run.

Workload: CLIP at 336 px (576 image tokens), LLaMA of width --hidden (default 384) x
--layers, --images drawn images with --questions yes/no questions each, answers capped at
3 new tokens (random weights then behave like a trained model answering "Yes"/"No": the
time is prefill, not decoding).

  peer b1  lmms-eval's models/simple/llava_hf.py way: batch 1, the processor and the vision
           tower per request, greedy generate with EOS as the stop.
  peer b8  transformers' batched generate, batch 8, left padding with an attention mask,
           the processor over the batch's images.
  lnbench  `lnbench eval --task pope --split random --max-new-tokens 3` as a user runs it
           (process start, model load, task files, a cold feature cache), default batch 8.
           Also run with --prefix-sharing off, and its eval.json prefill counters read.

Answers must be identical to peer b1 after strip(); the b8 peer's agreement is reported.
Prints a JSON summary; exits 1 if any lnbench answer differs from peer b1.

Usage: compare_prefix.py --lnbench build/bin/lnbench [--questions 6] [--images 16]
"""
import argparse
import json
import os
import shlex
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
from compare_eval import draw  # noqa: E402
from PIL import Image  # noqa: E402

OBJECTS = ["car", "dog", "person", "snowboard", "bottle", "chair", "cup", "bird", "truck", "horse", "umbrella", "bench"]
SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions.")


def write_pope(data, n_images, n_questions):
    lines = []
    for i in range(n_images):
        name = "COCO_val2014_%012d.jpg" % (100 + i)
        draw(os.path.join(data, "val2014", name), i)
        for q in range(n_questions):
            obj = OBJECTS[(i * 5 + q) % len(OBJECTS)]
            lines.append({"question_id": len(lines) + 1, "image": name, "text": "Is there a %s in the image?" % obj,
                          "label": "yes" if q % 2 == 0 else "no"})
    with open(os.path.join(data, "coco_pope_random.json"), "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


def run_lnbench(args, mdir, data, out, feats, env, extra):
    t0 = time.perf_counter()
    subprocess.run([args.lnbench, "eval", "--model", mdir, "--task", "pope", "--split", "random", "--data", data,
                    "--out", out, "--max-new-tokens", "3", "--batch-size", str(args.batch_size), "--feature-cache", feats,
                    "--batch-check", "0", "--quiet"] + shlex.split(args.lnbench_args) + extra, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    answers = {}
    with open(os.path.join(out, "samples.jsonl")) as f:
        for line in f:
            j = json.loads(line)
            answers[j["id"]] = j
    return seconds, answers, json.load(open(os.path.join(out, "eval.json")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--questions", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--skip-batched-peer", action="store_true")
    ap.add_argument("--lnbench-args", default="", help="extra `lnbench eval` arguments, e.g. '--device cuda --dtype bf16'")
    ap.add_argument("--keep", help="build the workload in this folder and keep it (model, data, outputs)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    d = args.keep or tempfile.mkdtemp(prefix="lnb-prefix-bench-")
    os.makedirs(d, exist_ok=True)
    data = os.path.join(d, "pope")
    write_pope(data, args.images, args.questions)
    model, mdir, sp, proc = bench_llava.make_model(d, args.hidden, args.layers, image_size=336)
    n_img = (model.config.vision_config.image_size // model.config.vision_config.patch_size) ** 2
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))

    lnb_s, lnb, lnb_eval = run_lnbench(args, mdir, data, os.path.join(d, "out"), os.path.join(d, "f1"), env, [])
    off_s, off, off_eval = run_lnbench(args, mdir, data, os.path.join(d, "out_off"), os.path.join(d, "f2"), env,
                                       ["--prefix-sharing", "off"])
    ids_order = [j for j in lnb]

    def peer_inputs(rid):
        user = lnb[rid]["prompt"].split(" USER: ", 1)[1][: -len(" ASSISTANT:")]
        text = SYSTEM + " USER: " + user + " ASSISTANT:"
        assert text == lnb[rid]["prompt"], (text, lnb[rid]["prompt"])
        ids = []
        for t in hf_oracle.tokenizer_image_token(sp, text):
            ids += [400] * n_img if t == -200 else [t]
        return ids

    image_of = {}
    with open(os.path.join(data, "coco_pope_random.json")) as f:
        for line in f:
            j = json.loads(line)
            image_of[j["question_id"]] = os.path.join(data, "val2014", j["image"])

    def image_path(rid):
        return image_of[int(rid.rsplit("/", 1)[-1].split("-")[-1])] if rid.rsplit("/", 1)[-1].split("-")[-1].isdigit() \
            else None

    paths = {rid: image_path(rid) for rid in ids_order}
    assert all(paths.values()), "cannot map request ids to images: %s" % ids_order[:3]

    def decode(tokens):
        return sp.decode([t for t in tokens if t < sp.get_piece_size()]).strip()

    # Peer b1: request by request, as llava_hf.generate_until does.
    b1, t0 = {}, time.perf_counter()
    for rid in ids_order:
        ids = peer_inputs(rid)
        px = proc(Image.open(paths[rid]).convert("RGB"), return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            g = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                               pixel_values=px, do_sample=False, num_beams=1, max_new_tokens=3, pad_token_id=2,
                               eos_token_id=2)
        b1[rid] = decode(g[0, len(ids):].tolist())
    b1_s = time.perf_counter() - t0

    # Peer b8: batched generate with left padding.
    b8, b8_s = {}, None
    if not args.skip_batched_peer:
        t0 = time.perf_counter()
        for s in range(0, len(ids_order), 8):
            chunk = ids_order[s:s + 8]
            seqs = [peer_inputs(r) for r in chunk]
            n = max(len(x) for x in seqs)
            input_ids = torch.tensor([[401] * (n - len(x)) + x for x in seqs])
            mask = torch.tensor([[0] * (n - len(x)) + [1] * len(x) for x in seqs])
            px = proc([Image.open(paths[r]).convert("RGB") for r in chunk], return_tensors="pt")["pixel_values"]
            with torch.no_grad():
                g = model.generate(input_ids=input_ids, attention_mask=mask, pixel_values=px, do_sample=False, num_beams=1,
                                   max_new_tokens=3, pad_token_id=2, eos_token_id=2)
            for k, r in enumerate(chunk):
                b8[r] = decode(g[k, n:].tolist())
        b8_s = time.perf_counter() - t0

    n = len(ids_order)
    same = sum(b1[r] == lnb[r]["answer"] for r in ids_order)
    same_off = sum(b1[r] == off[r]["answer"] for r in ids_order)
    summary = {
        "workload": {"images": args.images, "questions_per_image": args.questions, "requests": n, "image_tokens": n_img,
                     "hidden": args.hidden, "layers": args.layers, "threads": args.threads, "max_new_tokens": 3},
        "lnbench": {"seconds": lnb_s, "samples_per_s": n / lnb_s, "identical_to_peer_b1": same,
                    "prefill": lnb_eval.get("prefill"), "prefix_sharing": lnb_eval.get("prefix_sharing"),
                    "in_process_samples_per_s": lnb_eval.get("samples_per_s")},
        "lnbench_unshared": {"seconds": off_s, "samples_per_s": n / off_s, "identical_to_peer_b1": same_off,
                             "prefill": off_eval.get("prefill")},
        "peer_b1": {"seconds": b1_s, "samples_per_s": n / b1_s},
        "speedup_vs_peer_b1": b1_s / lnb_s,
        "speedup_of_sharing": off_s / lnb_s,
        "lnbench_eval_json": lnb_eval,
    }
    if b8_s is not None:
        summary["peer_b8"] = {"seconds": b8_s, "samples_per_s": n / b8_s,
                              "identical_to_peer_b1": sum(b8[r] == b1[r] for r in ids_order)}
        summary["speedup_vs_peer_b8"] = b8_s / lnb_s
    print(json.dumps(summary, indent=1))
    if not args.keep:
        shutil.rmtree(d)
    sys.exit(0 if same == n else 1)


if __name__ == "__main__":
    main()
