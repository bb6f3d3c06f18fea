"""The random llava-hf model the comparison scripts share: the hf_oracle tiny model at
224-px (256 image tokens) or 336-px (576) geometry scaled to `hidden` x `layers`, saved with its processor
and a sentencepiece tokenizer trained on the fly. A benchmark helper, never imported by
lnbench."""
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
import hf_oracle  # noqa: E402
from transformers import LlavaConfig, LlavaForConditionalGeneration  # noqa: E402


def make_model(d, hidden, layers, image_size=224):
    """-> (model, model_dir, sentencepiece processor, image processor) under folder d."""
    sp = hf_oracle.train_tokenizer(os.path.join(d, "tokenizer.model"))
    torch.manual_seed(0)
    tc = hf_oracle.llama_config(402, gqa=True, theta=10000.0)
    tc.hidden_size, tc.intermediate_size, tc.num_hidden_layers = hidden, hidden * 3, layers
    tc.head_dim = hidden // tc.num_attention_heads
    cfg = LlavaConfig(vision_config=hf_oracle.clip_config(image_size), text_config=tc, image_token_index=400, pad_token_id=401)
    model = LlavaForConditionalGeneration(cfg).eval()
    mdir = os.path.join(d, "model")
    model.save_pretrained(mdir)
    proc = hf_oracle.processor(image_size)
    proc.save_pretrained(mdir)
    shutil.copy(os.path.join(d, "tokenizer.model"), os.path.join(mdir, "tokenizer.model"))
    return model, mdir, sp, proc
