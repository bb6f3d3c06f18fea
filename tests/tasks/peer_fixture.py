"""The fixture benchmark's POPE and MME questions as the peers' datasets lay them out
(shared by lmms_eval_peer.py and gen_vlmevalkit_goldens.py)."""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "data", "tasks", "fixture")


def pope_questions():
    """(split, label-file row) in lmms-lab/POPE's split order."""
    for split in ["adversarial", "popular", "random"]:
        with open(os.path.join(FIXTURE, "pope", f"coco_pope_{split}.json")) as f:
            for line in f:
                if line.strip():
                    yield split, json.loads(line)


def mme_questions():
    """(subtask, image file name, question, answer) for every image with its two questions."""
    base = os.path.join(FIXTURE, "mme", "MME_Benchmark_release_version")
    for subtask in sorted(os.listdir(base)):
        qa_dir = os.path.join(base, subtask, "questions_answers_YN")
        if not os.path.isdir(qa_dir):
            qa_dir = os.path.join(base, subtask)
        for txt in sorted(glob.glob(os.path.join(qa_dir, "*.txt"))):
            with open(txt, newline=None) as f:
                lines = [l.strip() for l in f if l.strip()]
            if len(lines) != 2:
                continue
            image = os.path.splitext(os.path.basename(txt))[0] + ".jpg"
            for l in lines:
                q, a = l.split("\t")
                yield subtask, image, q, a


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
