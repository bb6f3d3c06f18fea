#!/usr/bin/env python3
"""`lnbench score pope|mme|vqav2|caption --from lmms-eval LOG`: the peer's numbers it prints equal the
peer's own code on the same records.

  lmms_eval_peer.py --lnbench build/bin/lnbench [--seeds 1,2,3]

The sample logs are written in lmms-eval 0.7.3's `--log_samples` record layout
(lmms_eval/evaluator.py `_process_document_results`: doc_id, doc without its image,
target, arguments, resps, filtered_resps, doc_hash, then the task's process_results
output), with each record's metric fields produced by lmms-eval's own
`tasks/{pope,mme,vqav2,coco_cap,flickr30k}/utils.py` (loaded by path; the evaluator module
itself needs accelerate and a GPU stack the oracle venv does not carry). The documents
are the checked-in fixture benchmarks (tests/data/tasks/fixture) as lmms-lab's POPE and
MME datasets lay them out; the responses are drawn per seed from a pool of the answer
shapes that split the parsers ("Yes.", "y", "No, there is not", " no\\n", "Not sure").
The peer's aggregation functions then score the records, and lnbench's "peer" block
must equal them exactly (== on the doubles), per seed; its duplicate count must name
the duplicated record. Exit 1 on any mismatch.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_fixture import mme_questions, pope_questions, write_jsonl  # noqa: E402
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURE = os.path.join(ROOT, "tests", "data", "tasks", "fixture")

POOL = ["Yes", "No", "yes", "no", "Yes.", "No.", "y", "n", "N", "Y", " yes", "no\n", "Yes, there is a dog.",
        "No, there is not.", "Not sure", "There is no dog.", "maybe", "YES", "NO.", "The answer is yes.", "nope", ""]


LMMS_EVAL_DIR = os.path.dirname(importlib.util.find_spec("lmms_eval").origin)  # before any stub replaces it


def load_peer(name):
    """lmms-eval's tasks/<name>/utils.py, with loguru (not in the venv, only logs) stubbed."""
    if "loguru" not in sys.modules:
        stub = types.ModuleType("loguru")
        stub.logger = types.SimpleNamespace(info=lambda *a, **k: None, warning=lambda *a, **k: None,
                                            debug=lambda *a, **k: None, error=lambda *a, **k: None)
        sys.modules["loguru"] = stub
    base = LMMS_EVAL_DIR
    sys.modules.setdefault("requests", types.ModuleType("requests"))  # coco_cap fetches Karpathy images by URL
    if name in ("vqav2", "coco_cap", "flickr30k") and "lmms_eval.tasks._task_utils.vqa_eval_metric" not in sys.modules:
        # vqav2/utils.py imports two helpers through the lmms_eval.tasks package, whose
        # __init__ needs the evaluator's dependencies: register the helpers by path.
        for pkg in ["lmms_eval", "lmms_eval.tasks", "lmms_eval.tasks._task_utils"]:
            sys.modules.setdefault(pkg, types.ModuleType(pkg))
        file_utils = types.ModuleType("file_utils")
        file_utils.generate_submission_file = lambda name, args: os.path.join(args, name)  # args: a scratch folder
        sys.modules["lmms_eval.tasks._task_utils.file_utils"] = file_utils
        m_spec = importlib.util.spec_from_file_location(
            "lmms_eval.tasks._task_utils.vqa_eval_metric", os.path.join(base, "tasks", "_task_utils", "vqa_eval_metric.py"))
        m = importlib.util.module_from_spec(m_spec)
        m_spec.loader.exec_module(m)
        sys.modules["lmms_eval.tasks._task_utils.vqa_eval_metric"] = m
        sys.modules["lmms_eval.tasks._task_utils"].vqa_eval_metric = m
        sys.modules["lmms_eval.tasks._task_utils"].file_utils = sys.modules["lmms_eval.tasks._task_utils.file_utils"]
        sys.modules["lmms_eval.tasks"]._task_utils = sys.modules["lmms_eval.tasks._task_utils"]
        sys.modules["lmms_eval"].tasks = sys.modules["lmms_eval.tasks"]
    path = os.path.join(base, "tasks", name, "utils.py")
    mod_spec = importlib.util.spec_from_file_location(f"lmms_eval_{name}_utils", path)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    return mod


def record(doc_id, doc, response, metrics):
    """One logged sample as lmms-eval 0.7.3's evaluator writes it (generate_until, one request)."""
    r = {"doc_id": doc_id, "doc": doc, "target": doc["answer"], "arguments": [doc["question"], {"max_new_tokens": 16}],
         "resps": [[response]], "filtered_resps": [response], "token_counts": [None],
         "doc_hash": hashlib.sha256(json.dumps(doc, indent=2, ensure_ascii=False).encode()).hexdigest()}
    r.update(metrics)
    return r


def pope_docs():
    return [{"id": str(i), "question_id": str(j["question_id"]), "question": j["text"], "answer": j["label"],
             "image_source": os.path.splitext(j["image"])[0], "category": split}
            for i, (split, j) in enumerate(pope_questions())]


def mme_docs():
    return [{"question_id": f"{subtask}/{image}", "question": q, "answer": a, "category": subtask}
            for subtask, image, q, a in mme_questions()]


def quiet():
    """pycocotools and the Java tokenizer chatter on stdout/stderr; keep the test's output readable."""
    import contextlib
    import io
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    return stack


def run_lnbench(exe, args):
    p = subprocess.run([exe] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"lnbench {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return json.loads(p.stdout)


def check_pope(exe, seed, tmp, pope):
    rng = random.Random(seed)
    docs = pope_docs()
    recs = []
    for i, d in enumerate(docs):
        resp = rng.choice(POOL)
        recs.append(record(i, d, resp, pope.pope_process_results(d, [resp])))
    dup = dict(recs[5])
    dup["doc_id"] = len(recs)  # the same question logged twice (a resumed run, say)
    recs.append(dup)
    log = os.path.join(tmp, f"pope_{seed}.jsonl")
    write_jsonl(log, recs)
    out = run_lnbench(exe, ["score", "pope", "--from", "lmms-eval", log, "--json"])
    want = {
        "accuracy": pope.pope_aggregate_accuracy([r["pope_accuracy"] for r in recs]),
        "precision": pope.pope_aggregate_precision([r["pope_precision"] for r in recs]),
        "recall": pope.pope_aggregate_recall([r["pope_recall"] for r in recs]),
        "f1": pope.pope_aggregate_f1_score([r["pope_f1_score"] for r in recs]),
        "yes_ratio": pope.pope_aggregate_yes_ratio([r["pope_yes_ratio"] for r in recs]),
    }
    bad = [f"pope seed {seed} {k}: lnbench says lmms-eval gives {out['peer']['values'][k]!r}, lmms-eval gives {v!r}"
           for k, v in want.items() if out["peer"]["values"][k] != v]
    if out["duplicates"]["count"] != 1 or f"line {len(recs)}" not in out["duplicates"]["example"]:
        bad.append(f"pope seed {seed}: duplicates {out['duplicates']}")
    if out["scored"] != len(recs) - 1 or out["peer"]["values"]["n"] != len(recs):
        bad.append(f"pope seed {seed}: scored {out['scored']} / peer n {out['peer']['values']['n']} of {len(recs)} records")
    if sorted(out["lnbench"]["splits"]) != ["adversarial", "popular", "random"]:
        bad.append(f"pope seed {seed}: splits {list(out['lnbench']['splits'])}")
    return bad


def check_mme(exe, seed, tmp, mme):
    rng = random.Random(1000 + seed)
    docs = mme_docs()
    recs = []
    for i, d in enumerate(docs):
        resp = rng.choice(POOL)
        recs.append(record(i, d, resp, mme.mme_process_results(d, [resp])))
    log = os.path.join(tmp, f"mme_{seed}.jsonl")
    write_jsonl(log, recs)
    out = run_lnbench(exe, ["score", "mme", "--from", "lmms-eval", log, "--json"])
    perception = [r["mme_perception_score"] for r in recs if "mme_perception_score" in r]
    cognition = [r["mme_cognition_score"] for r in recs if "mme_cognition_score" in r]
    bad = []
    for key, results in [("perception", perception), ("cognition", cognition)]:
        v = mme.mme_aggregate_results(results)
        if out["peer"][key] != v:
            bad.append(f"mme seed {seed} {key}: lnbench says lmms-eval gives {out['peer'][key]!r}, lmms-eval gives {v!r}")
    for cat in sorted({d["category"] for d in docs}):
        metric = "mme_perception_score" if cat in mme.eval_type_dict["Perception"] else "mme_cognition_score"
        v = mme.mme_aggregate_results([r[metric] for r in recs if metric in r and r[metric]["category"] == cat])
        if out["peer"]["tasks"].get(cat) != v:
            bad.append(f"mme seed {seed} {cat}: {out['peer']['tasks'].get(cat)!r} vs lmms-eval {v!r}")
    if out["scored"] != len(recs):
        bad.append(f"mme seed {seed}: scored {out['scored']} of {len(recs)}")
    return bad


VQA_POOL = ["yes", "Yes", "no", "2", "two", "Two.", "1,000", "1,,000", "a dog", "Dog", "dogs", "it's red", "red",
            "none", "3:30", "the man", "ten", "10", "skiing", "Skiing!", "", "white and black", "black/white"]


def vqa_docs():
    d = os.path.join(FIXTURE, "vqav2")
    qs = {q["question_id"]: q for q in json.load(open(os.path.join(d, "v2_OpenEnded_mscoco_val2014_questions.json")))["questions"]}
    docs = []
    for a in json.load(open(os.path.join(d, "v2_mscoco_val2014_annotations.json")))["annotations"]:
        docs.append({"question_type": a.get("question_type", ""), "multiple_choice_answer": a["multiple_choice_answer"],
                     "answers": a["answers"], "image_id": a["image_id"], "answer_type": a["answer_type"],
                     "question_id": a["question_id"], "question": qs[a["question_id"]]["question"],
                     "answer": a["multiple_choice_answer"]})
    return docs


def check_vqa(exe, seed, tmp, vqa):
    import copy
    rng = random.Random(2000 + seed)
    recs = []
    for i, d in enumerate(vqa_docs()):
        pool = VQA_POOL + [a["answer"] for a in d["answers"]] * 2
        resp = rng.choice(pool)
        recs.append(record(i, d, resp, vqa.vqav2_process_results_val(copy.deepcopy(d), [resp])))
    log = os.path.join(tmp, f"vqa_{seed}.jsonl")
    write_jsonl(log, recs)
    out = run_lnbench(exe, ["score", "vqav2", "--from", "lmms-eval", log, "--json"])
    want = sum(r["exact_match"] for r in recs) / len(recs)  # lmms_eval.api.metrics.mean
    bad = []
    if out["peer"]["exact_match"] != want:
        bad.append(f"vqav2 seed {seed}: lnbench says lmms-eval gives {out['peer']['exact_match']!r}, lmms-eval gives {want!r}")
    return bad


CAPTION_POOL = ["A dog runs on the grass.", "a dog", "Two cats sleeping on a bed", "  A man riding a horse.\n",
                "a brown dog running on green grass", "", "It's a cat (probably).", "A DOG!!", "cats"]


def check_caption(exe, seed, tmp, cap, flickr):
    rng = random.Random(3000 + seed)
    recs = []
    coco = json.load(open(os.path.join(FIXTURE, "coco", "dataset_coco.json")))
    for im in coco["images"]:  # lmms-lab/COCO-Caption-Karpathy rows
        doc = {"filename": im["filename"], "imgid": im["imgid"], "sentences": [x["raw"] for x in im["sentences"]],
               "question": "Provide a one-sentence caption for the provided image.", "answer": ""}
        pred = rng.choice(CAPTION_POOL + doc["sentences"])
        recs.append(record(len(recs), doc, pred, cap.coco_process_result_karpathy(doc, [pred])))
    log = os.path.join(tmp, f"coco_{seed}.jsonl")
    write_jsonl(log, recs)
    out = run_lnbench(exe, ["score", "caption", "--from", "lmms-eval", log, "--json"])
    bad = []
    for metric in ["Bleu_1", "Bleu_4", "ROUGE_L", "CIDEr"]:
        with quiet():
            want = cap.coco_aggregation_result([r[f"coco_{metric}"] for r in recs], metric, tmp)
        if out["peer"]["values"][metric] != want:
            bad.append(f"coco seed {seed} {metric}: lnbench says lmms-eval gives {out['peer']['values'][metric]!r}, "
                       f"lmms-eval gives {want!r}")
    # Flickr30k rows (lmms-lab/flickr30k: img_id, caption list), one image logged twice:
    # lmms-eval's aggregation then fails (BLEU asserts one caption per image); lnbench
    # says so and scores the first record.
    fl = json.load(open(os.path.join(FIXTURE, "flickr30k", "dataset_flickr30k.json")))
    frecs = []
    for im in fl["images"]:
        doc = {"img_id": str(im["imgid"]), "caption": [x["raw"] for x in im["sentences"]], "filename": im["filename"],
               "question": "Provide a one-sentence caption for the provided image.", "answer": ""}
        pred = rng.choice(CAPTION_POOL + doc["caption"])
        frecs.append(record(len(frecs), doc, pred, flickr.flickr_process_result(doc, [pred])))
    flog = os.path.join(tmp, f"flickr_{seed}.jsonl")
    write_jsonl(flog, frecs)
    fout = run_lnbench(exe, ["score", "caption", "--from", "lmms-eval", flog, "--json"])
    with quiet():
        want = flickr.flickr_aggregation_result([r["flickr_CIDEr"] for r in frecs], "CIDEr", tmp)
    if fout["peer"]["values"]["CIDEr"] != want or fout["lnbench"]["CIDEr"] != want:
        bad.append(f"flickr seed {seed}: {fout['peer']['values']['CIDEr']!r} / {fout['lnbench']['CIDEr']!r} vs {want!r}")
    with open(flog, "a") as f:
        f.write(json.dumps(dict(frecs[0], doc_id=len(frecs))) + "\n")
    dup = run_lnbench(exe, ["score", "caption", "--from", "lmms-eval", flog, "--json"])
    try:
        with quiet():
            flickr.flickr_aggregation_result([r["flickr_CIDEr"] for r in frecs + [frecs[0]]], "CIDEr", tmp)
        peer_failed = False
    except AssertionError:
        peer_failed = True
    if not peer_failed or dup["peer"]["values"] is not None or dup["duplicates"]["count"] != 1 or dup["lnbench"]["CIDEr"] != want:
        bad.append(f"flickr seed {seed} duplicate: peer failed {peer_failed}, lnbench says {dup['peer']['values']}, "
                   f"{dup['duplicates']}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lnbench", required=True)
    ap.add_argument("--seeds", default="1,2,3,4,5")
    args = ap.parse_args()
    pope, mme, vqa = load_peer("pope"), load_peer("mme"), load_peer("vqav2")
    cap, flickr = load_peer("coco_cap"), load_peer("flickr30k")
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in [int(s) for s in args.seeds.split(",")]:
            bad += check_pope(args.lnbench, seed, tmp, pope)
            bad += check_mme(args.lnbench, seed, tmp, mme)
            bad += check_vqa(args.lnbench, seed, tmp, vqa)
            if seed <= 2:  # each aggregation starts Java twice: two seeds are enough for these
                bad += check_caption(args.lnbench, seed, tmp, cap, flickr)
    for b in bad:
        print(b)
    print(f"lmms-eval peer scores: {'FAILED' if bad else 'identical'} ({args.seeds})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
