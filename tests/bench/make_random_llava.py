#!/usr/bin/env python3
"""A random-weight LLaVA-1.5-shaped checkpoint for memory and speed measurements.

  make_random_llava.py OUTDIR [--size 7b|13b|tiny] [--device cuda] [--tokenizer FILE]

The key names and shapes come from transformers' own LlavaForConditionalGeneration, built
on the meta device, so the checkpoint is exactly what save_pretrained would write for
llava-hf/llava-1.5-7b-hf (CLIP ViT-L/14-336 + 2-layer GELU projector + LLaMA). Values are
N(0, 0.02) in bf16, norms 1, biases 0: nothing is downloaded and nothing is learned.
A peer/benchmark helper only; lnbench never imports it.
"""
import argparse
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

SIZES = {  # hidden, intermediate, layers, heads
    "7b": (4096, 11008, 32, 32),
    "13b": (5120, 13824, 40, 40),
    "tiny": (256, 688, 2, 4),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", default="7b", choices=sorted(SIZES))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tokenizer", help="a sentencepiece model to copy as tokenizer.model")
    a = ap.parse_args()
    hidden, inter, layers, heads = SIZES[a.size]
    vision = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                              image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu")
    if a.size == "tiny":
        vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                  image_size=336, patch_size=14, projection_dim=32, hidden_act="quick_gelu")
    text = LlamaConfig(vocab_size=32064, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                       num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=4096,
                       rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=32000, pad_token_id=32001,
                      projector_hidden_act="gelu", vision_feature_layer=-2, vision_feature_select_strategy="default",
                      image_seq_length=576, tie_word_embeddings=False)
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(cfg)
    gen = torch.Generator(device=a.device).manual_seed(0)
    tensors = {}
    for name, p in model.state_dict().items():
        if name.endswith("norm.weight") or "layer_norm" in name or "layernorm" in name:
            t = torch.ones(p.shape, dtype=torch.bfloat16, device=a.device) if name.endswith("weight") else \
                torch.zeros(p.shape, dtype=torch.bfloat16, device=a.device)
        elif name.endswith("bias"):
            t = torch.zeros(p.shape, dtype=torch.bfloat16, device=a.device)
        else:
            t = torch.empty(p.shape, dtype=torch.bfloat16, device=a.device).normal_(0, 0.02, generator=gen)
        tensors[name] = t.cpu()
    os.makedirs(a.out, exist_ok=True)
    save_file(tensors, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
    d = cfg.to_dict()
    d["architectures"] = ["LlavaForConditionalGeneration"]
    d["dtype"] = "bfloat16"
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(d, f, indent=2)
    with open(os.path.join(a.out, "preprocessor_config.json"), "w") as f:
        json.dump({"crop_size": {"height": 336, "width": 336}, "do_center_crop": True, "do_convert_rgb": True,
                   "do_normalize": True, "do_rescale": True, "do_resize": True,
                   "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
                   "image_processor_type": "CLIPImageProcessor", "resample": 3, "rescale_factor": 1 / 255,
                   "size": {"shortest_edge": 336}}, f, indent=2)
    if a.tokenizer:
        shutil.copy(a.tokenizer, os.path.join(a.out, "tokenizer.model"))
    print(json.dumps({"out": a.out, "params": sum(t.numel() for t in tensors.values())}))


if __name__ == "__main__":
    main()
