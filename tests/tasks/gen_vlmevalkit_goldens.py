#!/usr/bin/env python3
"""VLMEvalKit prediction files for the fixture POPE and MME, and VLMEvalKit's own scores.

  gen_vlmevalkit_goldens.py --vlmevalkit PATH_TO_VLMEvalKit_CHECKOUT     (needs pandas)

VLMEvalKit is not on PyPI, so CI cannot run it: this script is run by hand against a
checkout (open-compass/VLMEvalKit e8e78f05, 2026-08-18) and its output is checked in
under tests/data/peers/vlmevalkit/, read by tests/tasks/vlmevalkit_peer_test.py.

What is VLMEvalKit's own code here (loaded from the checkout, nothing transcribed):
`vlmeval/smp/file.py` dump/load (the tsv is written by its dump: to_csv, sep '\\t',
QUOTE_ALL), `vlmeval/smp/misc.py` process_punctuation and d2df,
`vlmeval/dataset/utils/yorn.py` YOrN_Extraction, POPE_rating and MME_rating. The
evaluate() glue of `vlmeval/dataset/image_yorn.py` (extracted = YOrN_Extraction(str(
prediction)), score = answer == extracted, judge exact_matching) is followed step by step,
since importing that module pulls in the whole package and its model stack.

The rows are the fixture's questions laid out as VLMEvalKit's POPE.tsv and MME.tsv
(index, question, answer Yes/No, category, image_path for MME) plus a prediction per
row drawn from a pool of answer shapes that split the parsers, and a few hostile cells
(a tab, a quote, a newline, an empty prediction).
"""
import argparse
import ast
import json
import os
import random
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_fixture import mme_questions, pope_questions  # noqa: E402
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "data", "peers", "vlmevalkit")

POOL = ["Yes", "No", "yes", "no", "Yes.", "No.", "y", "n", "Yes, there is a dog.", "No, there is not.", "Not sure",
        "There is no dog.", "yes and no", "The answer is yes.", "nope", "", "No\tdog", 'He said "yes"', "yes\nno",
        "(yes)", "no-one", "yes/no", "It is 3.5 m", "NA"]


def functions_of(path, names, env):
    """Executes only the named top-level functions/classes of a VLMEvalKit source file."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    picked = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names]
    missing = set(names) - {n.name for n in picked}
    if missing:
        raise SystemExit(f"{path}: no {sorted(missing)}")
    exec(compile(ast.Module(body=picked, type_ignores=[]), path, "exec"), env)
    return env


def load_vlmevalkit(root):
    import csv
    import pickle

    import numpy as np
    import pandas as pd
    sys.modules.setdefault("validators", types.SimpleNamespace(url=lambda f: False))
    env = {"pd": pd, "np": np, "json": json, "csv": csv, "pickle": pickle, "osp": os.path, "os": os,
           "logger": types.SimpleNamespace(warning=print)}
    functions_of(os.path.join(root, "vlmeval", "smp", "file.py"), ["NumpyEncoder", "load", "dump"], env)
    functions_of(os.path.join(root, "vlmeval", "smp", "misc.py"), ["process_punctuation", "d2df"], env)
    smp = types.ModuleType("vlmeval.smp")
    for k in ["load", "dump", "d2df", "process_punctuation"]:
        setattr(smp, k, env[k])
    sys.modules["vlmeval"] = types.ModuleType("vlmeval")
    sys.modules["vlmeval.smp"] = smp
    yorn_env = {"__name__": "vlmeval_yorn"}
    exec(compile(open(os.path.join(root, "vlmeval", "dataset", "utils", "yorn.py"), encoding="utf-8").read(),
                 "yorn.py", "exec"), yorn_env)
    return env, yorn_env


def pope_rows():
    rows = [{"index": i, "question": j["text"], "answer": j["label"].capitalize(), "category": split,
             "image_source": os.path.splitext(j["image"])[0]} for i, (split, j) in enumerate(pope_questions())]
    rows[3]["category"] = "random,popular"  # POPE_rating splits a category list and counts the row once per split
    return rows


def mme_rows():
    return [{"index": i, "question": q, "answer": a, "category": subtask, "image_path": f"{subtask}/{image}"}
            for i, (subtask, image, q, a) in enumerate(mme_questions())]


def evaluate(env, yorn, path, rating):
    """image_yorn.py evaluate(), judge exact_matching, on the dumped file as VLMEvalKit reloads it."""
    data = env["load"](path)
    data["prediction"] = [str(x) for x in data["prediction"]]
    data["extracted"] = [yorn["YOrN_Extraction"](v) for v in data["prediction"]]
    data["score"] = data["answer"] == data["extracted"]
    storage = path.replace(".tsv", "_auxmatch.tsv")
    env["dump"](data, storage)
    score = rating(storage)
    os.remove(storage)
    return score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vlmevalkit", required=True)
    args = ap.parse_args()
    import pandas as pd
    env, yorn = load_vlmevalkit(args.vlmevalkit)
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20261202)
    goldens = {"source": "VLMEvalKit e8e78f05 utils/yorn.py, run by tests/tasks/gen_vlmevalkit_goldens.py"}
    for name, rows, rating in [("pope", pope_rows(), yorn["POPE_rating"]), ("mme", mme_rows(), yorn["MME_rating"])]:
        for r in rows:  # mostly a form of the right answer, else any shape of the pool
            right = {"Yes": ["Yes", "yes", "Yes, there is a dog.", "The answer is yes."],
                     "No": ["No", "no", "No.", "No, there is not.", "There is no dog."]}[r["answer"]]
            r["prediction"] = rng.choice(right) if rng.random() < 0.6 else rng.choice(POOL)
        for i, hostile in zip([1, 2, 4, 5, 6, 8], ["No\tdog", 'He said "yes"', "yes\nno", "", "NA", "(yes)"]):
            rows[i]["prediction"] = hostile  # a tab, a quote, a newline, empty and NA cells, brackets
        df = pd.DataFrame(rows)
        tsv = os.path.join(OUT, f"model_{name.upper()}.tsv")
        env["dump"](df, tsv)
        env["dump"](df, tsv.replace(".tsv", ".json"))
        score = evaluate(env, yorn, tsv, rating)
        # Column -> values, doubles exactly (json.dump writes repr, which round-trips).
        goldens[name] = {c: [float(v) if score[c].dtype.kind == "f" else str(v) for v in score[c]] for c in score.columns}
    with open(os.path.join(OUT, "scores.json"), "w") as f:
        json.dump(goldens, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
