#!/usr/bin/env python3
"""Golden rendered prompts and token ids per chat template (STYLE.md rule 9).

  gen_template_goldens.py [--check]   (writes tests/data/model/{tokenizer.model,template_goldens.json})

Rendering is LLaVA's llava/conversation.py Conversation.get_prompt() for SeparatorStyle
TWO (vicuna_v1), LLAMA_2 (llava_llama_2), PLAIN and SINGLE (vicuna_v0, with its built-in
renewable-energy exchange), transcribed in tests/oracles/llava_conversation.py; token ids are
LLaVA's tokenizer_image_token over the slow (legacy) LlamaTokenizer semantics, computed
with the sentencepiece Python package (hf_oracle.tokenizer_image_token), and cross-checked
against transformers' AutoTokenizer (legacy=True) on every chunk where the two stacks agree
by construction (segments between special strings not starting with a space). The tokenizer is trained here with a
fixed seed corpus and checked in, so the ids do not depend on the trainer's version.
Read by tests/model/tokenizer_test.cpp.
"""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracles"))
import hf_oracle  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "model")

from llava_conversation import get_prompt  # noqa: E402


CASES = {
    "vqa_single": [("<image>\nWhat shape is in the picture?\nAnswer the question using a single word or phrase.", None)],
    "caption_3shot": [
        ("What is the capital of France?", "Paris"),
        ("How many legs does a dog have?", "Four"),
        ("What color is the sky on a clear day?", "Blue"),
        ("<image>\nPlease provide a description of the picture.", None),
    ],
    "unicode_digits": [("<image>\nIs there a 12 cm star ★ near \"café\"? Please answer yes or no.", None)],
    "literal_specials": [("<image>\nSay </s> and <s> literally", "ok"), ("again", None)],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    tok_path = os.path.join(OUT, "tokenizer.model")
    if not os.path.exists(tok_path) or "--retrain" in sys.argv:
        hf_oracle.train_tokenizer(tok_path)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    goldens = {"generator": "tests/model/gen_template_goldens.py", "tokenizer": "tokenizer.model", "cases": []}
    for template in ("vicuna_v1", "llava_llama_2", "plain", "vicuna_v0"):
        roles = {"plain": ("", ""), "vicuna_v0": ("Human", "Assistant")}.get(template, ("USER", "ASSISTANT"))
        for case, turns in CASES.items():
            messages = []
            for user, assistant in turns:
                messages += [(roles[0], user), (roles[1], assistant)]
            text = get_prompt(template, messages)
            ids = hf_oracle.tokenizer_image_token(sp, text)
            goldens["cases"].append({"template": template, "case": case,
                                     "turns": [{"user": u, "assistant": a} for u, a in turns],
                                     "prompt": text, "ids": ids})
    cross_check(goldens, tok_path)
    path = os.path.join(OUT, "template_goldens.json")
    text = json.dumps(goldens, indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        with open(path, encoding="utf-8") as f:
            sys.exit(0 if f.read() == text else "template_goldens.json is stale: regenerate it")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote", path, len(goldens["cases"]), "cases")


def cross_check(goldens, tok_path):
    """transformers' tokenizer (legacy) must give the same chunk ids where both stacks apply."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(tok_path, d)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "LlamaTokenizer", "legacy": True, "add_bos_token": True,
                       "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, f)
        hf = AutoTokenizer.from_pretrained(d)
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=tok_path)
        n = 0
        for g in goldens["cases"]:
            for seg in re.split(r"<image>|</s>|<s>|<unk>", g["prompt"]):
                if not seg or seg.startswith(" "):  # the fast tokenizer drops a leading space's extra piece
                    continue
                a = hf(seg, add_special_tokens=False).input_ids
                assert a == sp.encode(seg), (g["template"], g["case"], seg, a, sp.encode(seg))
                n += 1
        assert n > 20, n


if __name__ == "__main__":
    main()
