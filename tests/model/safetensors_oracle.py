#!/usr/bin/env python3
"""The Python safetensors package as the oracle for lnbench's reader and writer.

  safetensors_oracle.py write PATH   writes the reference tensors (below) with safetensors.torch
  safetensors_oracle.py check PATH   loads PATH with safetensors.torch, prints {name: [dtype, shape, sum]}

Reference tensor k: torch.arange(numel, dtype=float64).reshape(shape) * 0.25 - 3, cast to the dtype.
Exit 77 when safetensors or torch is missing (ctest/gtest skip).
"""
import json
import sys

try:
    import torch
    from safetensors.torch import load_file, save_file
except ImportError:
    print("SKIP: safetensors or torch not installed")
    sys.exit(77)

SPECS = [("f64", torch.float64, [2, 3]), ("f32", torch.float32, [4, 5]), ("f16", torch.float16, [3]),
         ("bf16", torch.bfloat16, [2, 2, 2]), ("i64", torch.int64, [5]), ("i32", torch.int32, [2, 3]),
         ("i16", torch.int16, [4]), ("i8", torch.int8, [6]), ("u8", torch.uint8, [7]), ("bool", torch.bool, [3, 1]),
         ("empty", torch.float32, [0, 4])]


def reference():
    out = {}
    for name, dtype, shape in SPECS:
        n = 1
        for d in shape:
            n *= d
        v = torch.arange(n, dtype=torch.float64).reshape(shape) * 0.25 - 3
        out[name] = (v > 0) if dtype == torch.bool else v.to(dtype)
    return out


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        save_file(reference(), path, metadata={"format": "pt"})
        return 0
    tensors = load_file(path)
    print(json.dumps({k: [str(t.dtype).replace("torch.", ""), list(t.shape), float(t.to(torch.float64).sum())]
                      for k, t in tensors.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
