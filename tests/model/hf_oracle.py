#!/usr/bin/env python3
"""Reference fixtures for model/ parity tests, produced by HF transformers itself.

  hf_oracle.py OUTDIR

Builds tiny random models with a fixed seed in every checkpoint layout lnbench loads,
trains a LLaMA-style sentencepiece tokenizer on the fly, draws test images, and dumps
what the reference stack computes: CLIPImageProcessorPil pixel values, CLIP features
(hidden_states[-2], CLS dropped), full-prompt logits and 32 greedy tokens from
model.generate. Nothing is downloaded. Run by tests/model/model_parity_test.cpp.

Models (all fp32, eager attention):
  hf336      llava-hf, 336 px geometry, GQA (4 heads / 2 kv), rope_theta 5e5,
             saved by transformers 5 (vision_tower.*, language_model.model.*)
  hf336_new  the same weights in the transformers>=4.52 layout (model.language_model.*)
  hf224      llava-hf classic layout (vision_tower.vision_model.*), 224 px, MHA
  v1_linear  original LLaVA-v1 (model_type llava_llama, one linear mm_projector,
             the CLIP tower in a separate folder named by mm_vision_tower)
"""
import io
import json
import os
import re
import sys

import numpy as np
import sentencepiece as spm
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from transformers import (CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM, LlavaConfig,
                          LlavaForConditionalGeneration)
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

IMAGE_SLOT = -200
PROMPT = ("A chat between a curious user and an artificial intelligence assistant. USER: <image>\n"
          "What shape is in the picture? ASSISTANT:")
CORPUS = [
    "A chat between a curious user and an artificial intelligence assistant.",
    "USER: What is in the image? ASSISTANT: a red circle and two blue squares",
    "What shape is in the picture? Answer the question using a single word or phrase.",
    "there are three green triangles on the left of a yellow star",
    "Please provide a description of the picture. 12345 67890",
]


def train_tokenizer(path):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 20), model_writer=buf, model_type="bpe", vocab_size=400, byte_fallback=True,
        character_coverage=1.0, split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
        normalization_rule_name="identity", unk_id=0, bos_id=1, eos_id=2, pad_id=-1, hard_vocab_limit=False,
        num_threads=1, minloglevel=2)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return spm.SentencePieceProcessor(model_file=path)


def tokenizer_image_token(sp, prompt):
    """LLaVA's mm_utils.tokenizer_image_token over the slow (legacy) LlamaTokenizer:
    chunks around <image> tokenized separately, BOS kept from the first only;
    "</s>"/"<s>" in a chunk become special ids."""
    def tok(text):
        ids = [sp.bos_id()]
        for part in re.split(r"(</s>|<s>|<unk>)", text):
            if part == "</s>": ids.append(sp.eos_id())
            elif part == "<s>": ids.append(sp.bos_id())
            elif part == "<unk>": ids.append(sp.unk_id())
            elif part: ids += sp.encode(part)
        return ids
    chunks = [tok(c) for c in prompt.split("<image>")]
    out = list(chunks[0])
    for c in chunks[1:]:
        out.append(IMAGE_SLOT)
        out += c[1:]
    return out


def draw_images(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    for name, (w, h) in {"wide.png": (500, 375), "tall.png": (300, 421), "small.png": (97, 80)}.items():
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([(x * 255 // w), (y * 255 // h), ((x + y) % 256)], -1).astype(np.uint8)
        for _ in range(6):  # hard edges: where resamplers differ most
            cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(5, 60)
            img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.integers(0, 256, 3)
        img = (img.astype(np.int16) + rng.integers(-12, 13, img.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(d, name))
        # PIL's own BICUBIC: resized/<stem>_<w>x<h>.png for aspect-preserving resizes (what
        # CLIP does: the shortest side to 336 or 224, an upscale) and one-axis changes.
        # Where the axes scale differently Pillow 13 picks the pass order itself, so those
        # are pinned per order as two one-axis resizes: <stem>_<w>x<h>.{hv,vh}.png.
        os.makedirs(os.path.join(d, "resized"), exist_ok=True)
        pil = Image.fromarray(img)
        short = min(w, h)
        for side in (336, 224, 41):
            size = (side, int(side * h / w)) if w <= h else (int(side * w / h), side)
            pil.resize(size, Image.BICUBIC).save(os.path.join(d, "resized", "%s_%dx%d.png" % (name[:-4], *size)))
        for size in ((w, 224), (224, h)):
            pil.resize(size, Image.BICUBIC).save(os.path.join(d, "resized", "%s_%dx%d.png" % (name[:-4], *size)))
        for W, H in ((701, 333), (224, 168), (31, 17)):
            hv = pil.resize((W, h), Image.BICUBIC).resize((W, H), Image.BICUBIC)
            vh = pil.resize((w, H), Image.BICUBIC).resize((W, H), Image.BICUBIC)
            hv.save(os.path.join(d, "resized", "%s_%dx%d.hv.png" % (name[:-4], W, H)))
            vh.save(os.path.join(d, "resized", "%s_%dx%d.vh.png" % (name[:-4], W, H)))
        assert short > 0


def processor(size):
    return CLIPImageProcessorPil(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def clip_config(size):
    return CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                            image_size=size, patch_size=14, projection_dim=16)


def llama_config(vocab, gqa, theta):
    return LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2 if gqa else 4, vocab_size=vocab, rope_theta=theta,
                       max_position_embeddings=2048, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)


def greedy(gen):
    # No EOS stop: 32 tokens always, so the comparison covers 32 steps.
    return gen(max_new_tokens=32, min_new_tokens=0, do_sample=False, eos_token_id=None, pad_token_id=0)


def make_hf(out, name, sp, img_dir, size, gqa, theta, layout):
    torch.manual_seed({"hf336": 1, "hf224": 2}[name])
    cfg = LlavaConfig(vision_config=clip_config(size), text_config=llama_config(402, gqa, theta),
                      image_token_index=400, pad_token_id=401, attn_implementation="eager")
    model = LlavaForConditionalGeneration(cfg).eval()
    d = os.path.join(out, name)
    model.save_pretrained(d)
    processor(size).save_pretrained(d)
    sd = load_file(os.path.join(d, "model.safetensors"))
    if layout == "classic":  # llava-hf as published: vision_tower.vision_model.*
        sd = {("vision_tower.vision_model." + k[len("vision_tower."):] if k.startswith("vision_tower.") else k): v
              for k, v in sd.items()}
        save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    write_ref(d, model, sp, img_dir, size, hf=True)
    if name == "hf336":  # the same weights in the transformers >= 4.52 layout
        d2 = os.path.join(out, "hf336_new")
        os.makedirs(d2, exist_ok=True)
        ren = {"language_model.model.": "model.language_model.", "language_model.lm_head.": "lm_head.",
               "vision_tower.": "model.vision_tower.vision_model.", "multi_modal_projector.": "model.multi_modal_projector."}
        new = {}
        for k, v in sd.items():
            for a, b in ren.items():
                if k.startswith(a):
                    k = b + k[len(a):]
                    break
            new[k] = v
        save_file(new, os.path.join(d2, "model.safetensors"), metadata={"format": "pt"})
        for f in ("config.json", "preprocessor_config.json", "tokenizer.model", "ref.safetensors", "ref.json"):
            with open(os.path.join(d, f), "rb") as src, open(os.path.join(d2, f), "wb") as dst:
                dst.write(src.read())


def write_ref(d, model, sp, img_dir, size, hf):
    with open(os.path.join(img_dir, "..", "tokenizer.model"), "rb") as src, open(os.path.join(d, "tokenizer.model"), "wb") as dst:
        dst.write(src.read())
    proc = processor(size)
    ref = {}
    for img in ("wide", "tall", "small"):
        ref["pixel_values." + img] = proc(Image.open(os.path.join(img_dir, img + ".png")).convert("RGB"),
                                          return_tensors="pt")["pixel_values"][0]
    pv = ref["pixel_values.wide"].unsqueeze(0)
    ids = tokenizer_image_token(sp, PROMPT)
    n_patches = (size // 14) ** 2
    with torch.no_grad():
        if hf:
            tower = model.model.vision_tower if hasattr(model, "model") else model.vision_tower
            feats = tower(pv, output_hidden_states=True).hidden_states[-2][:, 1:]
            expanded = []
            for t in ids:
                expanded += [400] * n_patches if t == IMAGE_SLOT else [t]
            input_ids = torch.tensor([expanded])
            logits = model(input_ids=input_ids, pixel_values=pv).logits[0]
            tokens = greedy(lambda **kw: model.generate(input_ids=input_ids, pixel_values=pv, **kw))[0, input_ids.shape[1]:]
        else:
            clip, proj, llm = model
            feats = clip(pv, output_hidden_states=True).hidden_states[-2][:, 1:]
            at = ids.index(IMAGE_SLOT)
            emb = llm.get_input_embeddings()
            embeds = torch.cat([emb(torch.tensor([ids[:at]])), proj(feats), emb(torch.tensor([ids[at + 1:]]))], 1)
            logits = llm(inputs_embeds=embeds).logits[0]
            tokens = greedy(lambda **kw: llm.generate(inputs_embeds=embeds, **kw))[0]
    ref["clip_features"] = feats[0].contiguous()
    ref["logits"] = logits.contiguous()
    ref["greedy_tokens"] = tokens.to(torch.int64).contiguous()
    ref["prompt_ids"] = torch.tensor(ids, dtype=torch.int64)
    save_file(ref, os.path.join(d, "ref.safetensors"))
    with open(os.path.join(d, "ref.json"), "w") as f:
        json.dump({"prompt": PROMPT, "image": "wide.png", "n_patches": n_patches}, f)


def make_v1(out, sp, img_dir):
    torch.manual_seed(3)
    d = os.path.join(out, "v1_linear")
    clip = CLIPVisionModel(clip_config(224)).eval()
    clip.save_pretrained(os.path.join(d, "clip"))
    processor(224).save_pretrained(os.path.join(d, "clip"))
    llm = LlamaForCausalLM(llama_config(400, gqa=True, theta=10000.0)).eval()
    proj = torch.nn.Linear(32, 64).eval()
    sd = {k: v for k, v in llm.state_dict().items()}
    sd["model.mm_projector.weight"] = proj.weight.detach().clone()
    sd["model.mm_projector.bias"] = proj.bias.detach().clone()
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    cfg = json.loads(llm.config.to_json_string())
    cfg.update({"model_type": "llava_llama", "architectures": ["LlavaLlamaForCausalLM"], "mm_projector_type": "linear",
                "mm_hidden_size": 32, "mm_vision_select_layer": -2, "mm_vision_tower": "clip",
                "mm_use_im_start_end": False, "image_aspect_ratio": "square"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_ref(d, (clip, proj, llm), sp, img_dir, 224, hf=False)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    sp = train_tokenizer(os.path.join(out, "tokenizer.model"))
    img_dir = os.path.join(out, "images")
    draw_images(img_dir)
    make_hf(out, "hf336", sp, img_dir, 336, gqa=True, theta=500000.0, layout="v5")
    make_hf(out, "hf224", sp, img_dir, 224, gqa=False, theta=10000.0, layout="classic")
    make_v1(out, sp, img_dir)
    print("hf_oracle: fixtures in", out)


if __name__ == "__main__":
    main()
