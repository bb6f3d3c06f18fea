#!/usr/bin/env python3
"""Golden rendered prompts and token ids per chat template (STYLE.md rule 9).

  gen_template_goldens.py [--check]   (writes tests/data/model/{tokenizer.model,template_goldens.json})

Rendering is LLaVA's llava/conversation.py Conversation.get_prompt() for SeparatorStyle
TWO (vicuna_v1), LLAMA_2 (llava_llama_2) and PLAIN, transcribed below; token ids are
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
import hf_oracle  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "model")

SYSTEMS = {
    "vicuna_v1": "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
                 "detailed, and polite answers to the user's questions.",
    "llava_llama_2": "You are a helpful language and vision assistant. You are able to understand the visual content that "
                     "the user provides, and assist the user with a variety of tasks using natural language.",
    "plain": "",
}


def get_prompt(template, messages):
    """llava/conversation.py get_prompt, the three styles lnbench offers."""
    system = SYSTEMS[template]
    if template == "vicuna_v1":  # SeparatorStyle.TWO, sep=" ", sep2="</s>", roles USER/ASSISTANT
        seps = [" ", "</s>"]
        ret = system + seps[0]
        for i, (role, message) in enumerate(messages):
            if message:
                ret += role + ": " + message + seps[i % 2]
            else:
                ret += role + ":"
        return ret
    if template == "llava_llama_2":  # SeparatorStyle.LLAMA_2, sep="<s>", sep2="</s>"
        wrap_sys = lambda msg: f"<<SYS>>\n{msg}\n<</SYS>>\n\n" if len(msg) > 0 else msg  # noqa: E731
        wrap_inst = lambda msg: f"[INST] {msg} [/INST]"  # noqa: E731
        ret = ""
        for i, (role, message) in enumerate(messages):
            if message:
                if i == 0:
                    message = wrap_sys(system) + message
                if i % 2 == 0:
                    ret += "<s>" + wrap_inst(message)
                else:
                    ret += " " + message + " " + "</s>"
        return ret.lstrip("<s>")
    if template == "plain":  # SeparatorStyle.PLAIN, sep="\n"
        seps = ["\n", "\n"]
        ret = system
        for i, (role, message) in enumerate(messages):
            if message:
                ret += message + seps[i % 2]
        return ret
    raise ValueError(template)


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
    for template in ("vicuna_v1", "llava_llama_2", "plain"):
        roles = ("", "") if template == "plain" else ("USER", "ASSISTANT")
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
