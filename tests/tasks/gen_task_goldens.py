#!/usr/bin/env python3
"""Fixture benchmarks in every official format, and their goldens (STYLE.md rule 9).

  gen_task_goldens.py [--check]     (writes tests/data/tasks/{fixture/,goldens/})

The fixture is tiny and deterministic: MME_Benchmark_release_version (both folder
layouts, a CRLF file, PNG and JPG subtasks), VQAv2 val + test-dev/test2015 question and
annotation JSON, Karpathy dataset_coco.json / dataset_flickr30k.json, the three POPE label
files, and canned model answers covering the parsers' corner cases. Images are not
written here: fixture/images.txt lists them and the C++ tests draw them with OpenCV.

Goldens follow the reference scripts, independently of lnbench's C++:
- prompts: LLaVA's get_prompt (tests/oracles/llava_conversation.py) over the question text
  each reference builds (lmms-eval's MME replace + suffix; LLaVA's llava_*.jsonl text for
  VQAv2 and POPE; the caption asset's turns before the image turn);
- exports: MME eval_tool's Your_Results layout; VQAv2 test-dev as LLaVA's
  convert_vqav2_for_submission.py with lmms-eval's EvalAIAnswerProcessor; POPE answer files;
  COCO results/annotation JSON as json.dump writes them;
- scores: MME eval_tool calculation.py and POPE evaluate.py / eval_pope.py logic.
Read by tests/tasks/task_adapters_test.cpp.
"""
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "oracles"))
from llava_conversation import get_prompt  # noqa: E402

OUT = os.path.join(ROOT, "tests", "data", "tasks")
SUFFIX = "\nAnswer the question using a single word or phrase."
PERCEPTION = ["existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR"]
COGNITION = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]
SPLIT_LAYOUT = {"artwork", "celebrity", "landmark", "posters", "scene"}


def evalai_processor():
    spec = importlib.util.find_spec("lmms_eval")
    if spec is None:
        sys.exit("lmms-eval is not installed in this Python (scripts/lnb installs it with --no-deps)")
    path = os.path.join(spec.submodule_search_locations[0], "tasks", "_task_utils", "vqa_eval_metric.py")
    mod_spec = importlib.util.spec_from_file_location("vqa_eval_metric", path)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    return mod.EvalAIAnswerProcessor()


# ---- the fixture ------------------------------------------------------------------------
def build_fixture(fx):
    images, answers = [], {}
    ans_pool = ["Yes", "No", "yes.", "No, there is not.", "Yes, there is a dog.", "maybe", " yes\n", "no\tway",
                "NO", "Not really", "y", "", "Yes\nNo"]

    def w(path, text, newline="\n"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline=newline) as f:
            f.write(text)

    # MME: 2 images per subtask (3 for existence), names that sort as strings.
    mme = os.path.join(fx, "mme", "MME_Benchmark_release_version")
    for t in PERCEPTION + COGNITION:
        ext = ".png" if t in COGNITION else ".jpg"
        stems = ["10581", "1060"] if t == "artwork" else ["000000006040", "000000006471", "000000000139"][: 3 if t == "existence" else 2]
        for k, stem in enumerate(stems):
            if t in SPLIT_LAYOUT:
                img, txt = os.path.join(mme, t, "images", stem + ext), os.path.join(mme, t, "questions_answers_YN", stem + ".txt")
            else:
                img, txt = os.path.join(mme, t, stem + ext), os.path.join(mme, t, stem + ".txt")
            images.append(os.path.relpath(img, fx))
            q1 = f"Is there a {t} thing number {k} in this image? Please answer yes or no."
            q2 = f"Is there a {t} item {k} here?  Please answer yes or no." if t == "count" else f"Is the {t} {k} red? Please answer yes or no."
            w(txt, f"{q1}\tYes\n{q2}\tNo\n", newline="\r\n" if t == "color" else "\n")
    # VQAv2
    vqa = os.path.join(fx, "vqav2")
    val_q, val_a = [], []
    qid = 0
    kinds = [("yes/no", "is there a dog?", ["yes"] * 7 + ["no"] * 3, "is there a"),
             ("number", "how many cats are there?", ["2"] * 5 + ["two", "3", "2", "2", "1"], "how many"),
             ("other", "what color is the bus?", ["red"] * 4 + ["dark red", "red", "maroon", "red", "red bus", "red"], "what color is the")]
    for image_id in (42, 73, 9):
        images.append(f"vqav2/val2014/COCO_val2014_{image_id:012d}.jpg")
        for atype, text, gts, qtype in kinds:
            qid += 1
            question_id = image_id * 1000 + qid
            val_q.append({"image_id": image_id, "question": text, "question_id": question_id})
            val_a.append({"question_type": qtype, "multiple_choice_answer": gts[0], "answers": [
                {"answer": a, "answer_confidence": "yes", "answer_id": i + 1} for i, a in enumerate(gts)],
                "image_id": image_id, "answer_type": atype, "question_id": question_id})
    w(os.path.join(vqa, "v2_OpenEnded_mscoco_val2014_questions.json"),
      json.dumps({"info": {}, "task_type": "Open-Ended", "data_type": "mscoco", "license": {}, "data_subtype": "val2014", "questions": val_q}))
    w(os.path.join(vqa, "v2_mscoco_val2014_annotations.json"),
      json.dumps({"info": {}, "license": {}, "data_subtype": "val2014", "annotations": val_a, "data_type": "mscoco"}))
    test_all, test_dev = [], []
    for n, image_id in enumerate((5, 11, 17)):
        for k, text in enumerate(["what is on the table?", "how many people are there?"]):
            q = {"image_id": image_id, "question": text, "question_id": image_id * 1000 + k}
            test_all.append(q)
            if n < 2:
                test_dev.append(q)
        if n < 2:
            images.append(f"vqav2/test2015/COCO_test2015_{image_id:012d}.jpg")
    for name, qs, sub in (("test-dev2015", test_dev, "test-dev2015"), ("test2015", test_all, "test2015")):
        w(os.path.join(vqa, f"v2_OpenEnded_mscoco_{name}_questions.json"),
          json.dumps({"info": {}, "task_type": "Open-Ended", "data_type": "mscoco", "license": {}, "data_subtype": sub, "questions": qs}))
    # Captions (Karpathy)
    caps = ["A dog runs on the grass.", "a brown dog running in a park", "The dog is playing outside, happily!",
            "A cat sits on a red sofa.", "two people walking down a street", "A man rides a bike near cars."]

    def sentences(i):
        return [{"raw": caps[(i + j) % len(caps)], "tokens": [], "imgid": i, "sentid": i * 5 + j} for j in range(5)]
    coco_imgs = []
    for i, (cocoid, split, fp) in enumerate([(391895, "test", "val2014"), (522418, "test", "val2014"),
                                              (184613, "val", "val2014"), (318219, "train", "train2014")]):
        fn = f"COCO_{fp}_{cocoid:012d}.jpg"
        coco_imgs.append({"filepath": fp, "sentids": [], "filename": fn, "imgid": i, "split": split,
                          "sentences": sentences(i), "cocoid": cocoid})
        images.append(f"coco/{fp}/{fn}")
    w(os.path.join(fx, "coco", "dataset_coco.json"), json.dumps({"images": coco_imgs, "dataset": "coco"}))
    fl_imgs = []
    for i, (stem, split) in enumerate([("1000092795", "test"), ("10002456", "test"), ("1000268201", "train")]):
        fl_imgs.append({"sentids": [], "imgid": i, "sentences": sentences(i + 2), "split": split, "filename": stem + ".jpg"})
        images.append(f"flickr30k/flickr30k-images/{stem}.jpg")
    w(os.path.join(fx, "flickr30k", "dataset_flickr30k.json"), json.dumps({"images": fl_imgs, "dataset": "flickr30k"}))
    # POPE
    for s, split in enumerate(["random", "popular", "adversarial"]):
        lines = []
        for k in range(6):
            image = f"COCO_val2014_{(310196 + s * 7 + k // 3):012d}.jpg"
            obj = ["snowboard", "car", "person", "dining table", "dog", "chair"][k]
            lines.append(json.dumps({"question_id": k + 1, "image": image, "text": f"Is there a {obj} in the imange?",
                                     "label": "yes" if (k + s) % 2 == 0 else "no"}))
            if f"pope/val2014/{image}" not in images:
                images.append(f"pope/val2014/{image}")
        w(os.path.join(fx, "pope", f"coco_pope_{split}.json"), "\n".join(lines) + "\n")
    w(os.path.join(fx, "images.txt"), "\n".join(images) + "\n")
    for p in images:  # the folders exist here; the C++ tests draw the files (git keeps no empty folder)
        os.makedirs(os.path.dirname(os.path.join(fx, p)), exist_ok=True)
    return ans_pool


# ---- goldens from the reference logic ----------------------------------------------------
def render(turns):
    msgs = []
    for user, assistant in turns:
        msgs += [("USER", user), ("ASSISTANT", assistant)]
    return get_prompt("vicuna_v1", msgs)


def mme_requests(fx):
    manifest = open(os.path.join(fx, "images.txt")).read().split()
    base = os.path.join(fx, "mme", "MME_Benchmark_release_version")
    out = []
    for t in PERCEPTION + COGNITION:
        d = os.path.join(base, t)
        img_dir, qa_dir = (os.path.join(d, "images"), os.path.join(d, "questions_answers_YN")) if os.path.isdir(os.path.join(d, "images")) else (d, d)
        entries = []
        for f in os.listdir(qa_dir):
            if f.endswith(".txt"):
                stem = f[:-4]
                # the images are drawn by the C++ tests: the manifest says which exist
                names = {os.path.basename(p) for p in manifest if os.path.dirname(os.path.join(fx, p)) == img_dir}
                img = next(stem + e for e in (".jpg", ".png", ".jpeg") if stem + e in names)
                entries.append((img, f))
        for img, f in sorted(entries):
            for k, line in enumerate(open(os.path.join(qa_dir, f), encoding="utf-8")):
                q, gt = line.strip().split("\t")
                # lmms-eval mme_doc_to_text: drop " Please answer yes or no.", add the post prompt
                prompt = q.replace(" Please answer yes or no.", "") + SUFFIX
                out.append({"id": f"{t}/{img}#{k}", "subtask": t, "image": img, "question": q, "gt": gt,
                            "turns": [("<image>\n" + prompt, None)]})
    return out


def vqa_requests(fx, split):
    name = {"val": "val2014", "test-dev": "test-dev2015"}[split]
    qs = json.load(open(os.path.join(fx, "vqav2", f"v2_OpenEnded_mscoco_{name}_questions.json")))["questions"]
    # LLaVA's llava_vqav2_*.jsonl text: the question, then the short-answer suffix
    return [{"id": str(q["question_id"]), "qid": q["question_id"], "turns": [("<image>\n" + q["question"] + SUFFIX, None)]} for q in qs]


def caption_requests(fx, which):
    asset = json.load(open(os.path.join(ROOT, "tasks", "assets", "caption_3shot_v1.json")))
    data = json.load(open(os.path.join(fx, which, f"dataset_{which if which == 'coco' else 'flickr30k'}.json")))
    out = []
    for im in data["images"]:
        if im["split"] != "test":
            continue
        image_id = str(im["cocoid"]) if which == "coco" else os.path.splitext(im["filename"])[0]
        turns = [(e["user"], e["assistant"]) for e in asset["examples"]] + [("<image>\n" + asset["instruction"], None)]
        out.append({"id": image_id, "refs": [s["raw"] for s in im["sentences"]], "turns": turns})
    return out


def pope_requests(fx):
    out = []
    for split in ["random", "popular", "adversarial"]:
        for line in open(os.path.join(fx, "pope", f"coco_pope_{split}.json")):
            q = json.loads(line)
            out.append({"id": f"{split}/{q['question_id']}", "split": split, "qid": q["question_id"], "text": q["text"],
                        "label": q["label"], "turns": [("<image>\n" + q["text"] + SUFFIX, None)]})
    return out


def mme_parse(pred):  # eval_tool calculation.py parse_pred_ans
    pred = pred.lower()
    if pred in ["yes", "no"]:
        return pred
    prefix = pred[:4]
    return "yes" if "yes" in prefix else "no" if "no" in prefix else "other"


def mme_scores(reqs, answers):
    out, totals = {}, {"perception": 0.0, "cognition": 0.0}
    for t in PERCEPTION + COGNITION:
        rows = [(r["gt"].lower(), eval_tool_pred(answers[r["id"]])) for r in reqs if r["subtask"] == t]
        correct = sum(g == p for g, p in rows)
        both = sum(rows[i][0] == rows[i][1] and rows[i + 1][0] == rows[i + 1][1] for i in range(0, len(rows), 2))
        score = correct / len(rows) * 100 + both / (len(rows) // 2) * 100
        out[t] = score
        totals["perception" if t in PERCEPTION else "cognition"] += score
    return out, totals


def one_line(s):
    return s.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def eval_tool_pred(answer):
    # The eval_tool reads each exported line with its trailing "\n", splits on tabs and
    # lowercases: the 4th field keeps "\n", so an exact "yes" never matches (prefix rule).
    field = one_line(answer.strip()) + "\n"
    return mme_parse(field)


def pope_parse(answer):  # POPE evaluate.py / LLaVA eval_pope.py
    text = answer
    if text.find(".") != -1:
        text = text.split(".")[0]
    text = text.replace(",", "")
    words = text.split(" ")
    return "no" if ("No" in words or "not" in words or "no" in words) else "yes"


def pope_scores(reqs, answers):
    out = {}
    for split in ["random", "popular", "adversarial"]:
        rs = [r for r in reqs if r["split"] == split]
        pred = [pope_parse(answers[r["id"]]) for r in rs]
        label = [r["label"] for r in rs]
        tp = sum(p == "yes" and l == "yes" for p, l in zip(pred, label))
        fp = sum(p == "yes" and l == "no" for p, l in zip(pred, label))
        tn = sum(p == "no" and l == "no" for p, l in zip(pred, label))
        fn = sum(p == "no" and l == "yes" for p, l in zip(pred, label))
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall)
        out[split] = {"f1": f1, "accuracy": (tp + tn) / len(rs), "yes_ratio": pred.count("yes") / len(pred)}
    out["f1_mean"] = sum(out[s]["f1"] for s in ["random", "popular", "adversarial"]) / 3
    return out


def generate(out_dir):
    rng = random.Random(20261123)
    fx = os.path.join(out_dir, "fixture")
    ans_pool = build_fixture(fx)
    proc = evalai_processor()
    reqs = {"mme": mme_requests(fx), "vqav2": vqa_requests(fx, "val"), "vqav2_test-dev": vqa_requests(fx, "test-dev"),
            "coco": caption_requests(fx, "coco"), "flickr30k": caption_requests(fx, "flickr30k"), "pope": pope_requests(fx)}
    answers = {}
    cap_pool = ["A dog running on grass.", "a cat on a sofa", "Two people walk down the street.", "", "A man on a bike near some cars!"]
    for task, rs in reqs.items():
        pool = cap_pool if task in ("coco", "flickr30k") else ["2", "two", "Red.", "red bus", "Yes", "no", "a dog", "Maroon", "3"] if task.startswith("vqav2") else ans_pool
        answers[task] = {r["id"]: rng.choice(pool) for r in rs}
    g = os.path.join(out_dir, "goldens")
    os.makedirs(g, exist_ok=True)
    json.dump(answers, open(os.path.join(g, "answers.json"), "w"), indent=1, sort_keys=True)
    prompts = {task: [{"id": r["id"], "prompt": render(r["turns"])} for r in rs] for task, rs in reqs.items()}
    json.dump(prompts, open(os.path.join(g, "prompts.json"), "w"), indent=1)
    # exports
    ex = os.path.join(g, "export")
    os.makedirs(ex, exist_ok=True)
    for t in PERCEPTION + COGNITION:
        with open(os.path.join(ex, f"{t}.txt"), "w", newline="") as f:
            for r in reqs["mme"]:
                if r["subtask"] == t:
                    f.write("\t".join([r["image"], r["question"], r["gt"], one_line(answers["mme"][r["id"]].strip())]) + "\n")
    # convert_vqav2_for_submission.py over the test2015 list
    results = {int(k): v for k, v in answers["vqav2_test-dev"].items()}
    test_split = json.load(open(os.path.join(fx, "vqav2", "v2_OpenEnded_mscoco_test2015_questions.json")))["questions"]
    all_answers = [{"question_id": x["question_id"], "answer": proc(results[x["question_id"]]) if x["question_id"] in results else ""}
                   for x in test_split]
    json.dump(all_answers, open(os.path.join(ex, "vqav2_test-dev_evalai_submission.json"), "w"))
    json.dump([{"question_id": r["qid"], "answer": answers["vqav2"][r["id"]].strip()} for r in reqs["vqav2"]],
              open(os.path.join(ex, "vqav2_val_results.json"), "w"))
    for which in ("coco", "flickr30k"):
        rs = reqs[which]
        json.dump([{"image_id": int(r["id"]), "caption": answers[which][r["id"]].strip()} for r in rs],
                  open(os.path.join(ex, f"{which}_test_results.json"), "w"))
        anns, n = [], 0
        for r in rs:
            for c in r["refs"]:
                n += 1
                anns.append({"image_id": int(r["id"]), "id": n, "caption": c})
        json.dump({"images": [{"id": int(r["id"])} for r in rs], "annotations": anns},
                  open(os.path.join(ex, f"{which}_test_annotations.json"), "w"))
    for split in ["random", "popular", "adversarial"]:
        with open(os.path.join(ex, f"pope_{split}_answers.jsonl"), "w") as f:
            for r in reqs["pope"]:
                if r["split"] == split:
                    f.write(json.dumps({"question_id": r["qid"], "question": r["text"], "answer": answers["pope"][r["id"]].strip()}) + "\n")
    mme_task, mme_tot = mme_scores(reqs["mme"], answers["mme"])
    scores = {"mme": {"tasks": mme_task, **mme_tot}, "pope": pope_scores(reqs["pope"], answers["pope"])}
    json.dump(scores, open(os.path.join(g, "scores.json"), "w"), indent=1, sort_keys=True)


def tree(d):
    out = {}
    for base, _, files in os.walk(d):
        for f in files:
            p = os.path.join(base, f)
            out[os.path.relpath(p, d)] = open(p, "rb").read()
    return out


def main():
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp)
            want, have = tree(tmp), tree(OUT)
            stale = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
            if stale:
                sys.exit("tests/data/tasks is stale (run tests/tasks/gen_task_goldens.py): " + ", ".join(stale[:10]))
        return
    shutil.rmtree(OUT, ignore_errors=True)
    generate(OUT)


if __name__ == "__main__":
    main()
