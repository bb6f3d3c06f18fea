#!/usr/bin/env python3
"""Parity of lnbench's native caption metrics with pycocoevalcap (the oracle, with
its Java PTBTokenizer): identical tokenized strings, and per-image and corpus
Bleu_1..4, ROUGE_L, CIDEr within 1e-12 relative.

Usage: ptb_parity.py --lnbench PATH [--images 2000] [--seed 1]
Exit 77 (ctest skip) when pycocoevalcap or java is missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_corpus  # noqa: E402

try:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
except ImportError:
    print("SKIP: pycocoevalcap not installed (run scripts/setup.sh)")
    sys.exit(77)
if shutil.which("java") is None:
    print("SKIP: java not found")
    sys.exit(77)


def rel_close(a, b, tol=1e-12):
    return a == b or abs(a - b) <= tol * max(abs(a), abs(b))


def oracle_scores(ann, res):
    # As COCOEvalCap.evaluate: images in annotation order, filtered to the results.
    by_img = {r["image_id"]: r for r in res}
    order = [im["id"] for im in ann["images"] if im["id"] in by_img]
    gts = {i: [] for i in order}
    for a in ann["annotations"]:
        if a["image_id"] in gts:
            gts[a["image_id"]].append({"caption": a["caption"]})
    rs = {i: [{"caption": by_img[i]["caption"]}] for i in order}
    tok = PTBTokenizer()
    gts_t, res_t = tok.tokenize(gts), tok.tokenize(rs)
    out = {}
    (b, b_imgs) = Bleu(4).compute_score(gts_t, res_t, verbose=0)
    r, r_imgs = Rouge().compute_score(gts_t, res_t)
    c, c_imgs = Cider().compute_score(gts_t, res_t)
    for k in range(4):
        out[f"Bleu_{k+1}"] = (b[k], list(b_imgs[k]))
    out["ROUGE_L"] = (r, list(r_imgs))
    out["CIDEr"] = (c, list(c_imgs))
    return order, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench", required=True)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hostile", action="store_true",
                    help="diagnostic: also glue punctuation between words; prints the agreement rate")
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Tokenized strings, caption by caption (no line-break characters here).
        ann, res = caption_corpus.caption_set(args.images, args.seed, hostile=args.hostile)
        caps = [a["caption"] for a in ann["annotations"]] + [r["caption"] for r in res]
        caps = [c for c in caps if not any(ch in c for ch in "\n\r\u2028\u2029\x0b\x0c\x85")]
        expected = PTBTokenizer().tokenize({i: [{"caption": c}] for i, c in enumerate(caps)})
        path = os.path.join(tmp, "caps.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(caps) + "\n")
        got = subprocess.run([args.lnbench, "score", "caption", "--tokenize-only"], stdin=open(path, "rb"),
                             capture_output=True, check=True).stdout.decode("utf-8").split("\n")
        bad = [(c, expected[i][0], got[i]) for i, c in enumerate(caps) if expected[i][0] != got[i]]
        print(f"tokenizer: {len(caps) - len(bad)}/{len(caps)} captions identical")
        for c, e, g in bad[:int(os.environ.get("LNB_PTB_SHOW", "25"))]:
            print(f"  input    {c!r}\n  oracle   {e!r}\n  lnbench  {g!r}")
        failures += len(bad)

        # 2. Scores, per image and corpus, through `lnbench score caption`.
        ann, res = caption_corpus.caption_set(args.images, args.seed + 1, line_breaks=True, hostile=args.hostile)
        a_path, r_path = os.path.join(tmp, "ann.json"), os.path.join(tmp, "res.json")
        json.dump(ann, open(a_path, "w"))
        json.dump(res, open(r_path, "w"))
        order, oracle = oracle_scores(ann, res)
        out = subprocess.run([args.lnbench, "score", "caption", "--annotations", a_path, "--results", r_path,
                              "--json", "--per-image"], capture_output=True, check=True).stdout
        mine = json.loads(out)
        assert [p["image_id"] for p in mine["per_image"]] == [str(i) for i in order], "evaluation order differs"
        for name, (corpus, per_img) in oracle.items():
            ok_corpus = rel_close(corpus, mine[name])
            bad_imgs = [k for k, v in enumerate(per_img) if not rel_close(v, mine["per_image"][k][name])]
            print(f"{name:8s} oracle {corpus!r:24} lnbench {mine[name]!r:24} "
                  f"{'ok' if ok_corpus else 'DIFFERS'}; per-image mismatches {len(bad_imgs)}/{len(per_img)}")
            failures += (not ok_corpus) + len(bad_imgs)
    print("PARITY OK" if failures == 0 else f"PARITY FAILED: {failures} mismatches")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
