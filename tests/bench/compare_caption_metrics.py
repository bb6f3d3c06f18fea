#!/usr/bin/env python3
"""Head-to-head: `lnbench score caption` against pycocoevalcap on the same files, in
one run. Workload: tokenize + BLEU-1..4 + ROUGE-L + CIDEr-D on N images x 5
references (COCO-shaped captions from tests/metrics/caption_corpus.py).

pycocoevalcap is timed in-process for exactly COCOEvalCap's work without METEOR and
SPICE (two PTBTokenizer runs, Bleu(4), Rouge, Cider); lnbench is timed as a whole
process from reading the JSON files to printing JSON. Values must be identical.

Usage: compare_caption_metrics.py --lnbench PATH [--images 5000] [--repeats 3] [--corpus quirky|phrasal|both]

Corpora: `quirky` (random word sequences, 10 % tokenizer quirks; many distinct n-grams)
and `phrasal` (COCO-like repeated phrases: few distinct 3- and 4-grams).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metrics"))
import caption_corpus  # noqa: E402
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.rouge.rouge import Rouge  # noqa: E402
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer  # noqa: E402


def pycoco(ann, res):
    by = {r["image_id"]: r for r in res}
    order = [im["id"] for im in ann["images"] if im["id"] in by]
    gts = {i: [] for i in order}
    for a in ann["annotations"]:
        gts[a["image_id"]].append({"caption": a["caption"]})
    rs = {i: [{"caption": by[i]["caption"]}] for i in order}
    t = time.perf_counter()
    tok = PTBTokenizer()
    g, r = tok.tokenize(gts), tok.tokenize(rs)
    out = {}
    b, _ = Bleu(4).compute_score(g, r, verbose=0)
    for k in range(4):
        out[f"Bleu_{k+1}"] = b[k]
    out["ROUGE_L"], _ = Rouge().compute_score(g, r)
    out["CIDEr"], _ = Cider().compute_score(g, r)
    return time.perf_counter() - t, {k: float(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench", required=True)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--corpus", choices=["quirky", "phrasal", "both"], default="both")
    args = ap.parse_args()
    ok = True
    for corpus in ["quirky", "phrasal"] if args.corpus == "both" else [args.corpus]:
        ok = run(args, corpus) and ok
    return 0 if ok else 1


def run(args, corpus):
    ann, res = caption_corpus.caption_set(args.images, 2024, min_refs=5, max_refs=5, quirk_rate=0.1,
                                          phrasal=corpus == "phrasal")
    with tempfile.TemporaryDirectory() as tmp:
        a, r = os.path.join(tmp, "ann.json"), os.path.join(tmp, "res.json")
        json.dump(ann, open(a, "w"))
        json.dump(res, open(r, "w"))
        py_times, lnb_times = [], []
        for _ in range(args.repeats):
            t, py_vals = pycoco(ann, res)
            py_times.append(t)
            t0 = time.perf_counter()
            out = subprocess.run([args.lnbench, "score", "caption", "--annotations", a, "--results", r, "--json"],
                                 capture_output=True, check=True).stdout
            lnb_times.append(time.perf_counter() - t0)
            lnb_vals = json.loads(out)
    identical = all(py_vals[k] == lnb_vals[k] for k in py_vals)
    py_t, lnb_t = statistics.median(py_times), statistics.median(lnb_times)
    print(f"corpus {corpus}: images {args.images} x 5 refs; median of {args.repeats} runs")
    print(f"pycocoevalcap  {py_t:8.3f} s   (tokenize x2 + Bleu + Rouge + Cider)")
    print(f"lnbench        {lnb_t:8.3f} s   (whole process: read JSON, tokenize, score, print)")
    print(f"speed-up       {py_t / lnb_t:8.1f} x")
    for k in py_vals:
        print(f"  {k:8s} pycocoevalcap {py_vals[k]!r:24} lnbench {lnb_vals[k]!r:24} {'==' if py_vals[k] == lnb_vals[k] else 'DIFFERENT'}")
    print("values identical" if identical else "VALUES DIFFER")
    return identical


if __name__ == "__main__":
    sys.exit(main())
