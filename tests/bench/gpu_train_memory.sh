#!/usr/bin/env bash
# Peak memory and step time per strategy on a random-weight LLaVA-1.5-shaped model,
# batch 1 x MAXLEN tokens (576 image + text), bf16, gradient checkpointing.
#
#   tests/bench/gpu_train_memory.sh LNBENCH MODEL_DIR OUT_DIR [DEVICE] [DTYPE] [MAXLEN] [STEPS]
#
# MODEL_DIR comes from tests/bench/make_random_llava.py. Each strategy's train.json is
# kept as OUT_DIR/train_<strategy>.json and one line per strategy goes to
# OUT_DIR/summary.tsv (strategy, trainable, peak allocated MiB, optimizer MiB, step s).
set -uo pipefail
LNB=$1 MODEL=$2 OUT=$3 DEVICE=${4:-cuda} DTYPE=${5:-bf16} MAXLEN=${6:-1024} STEPS=${7:-3}
STRATEGIES=${STRATEGIES:-"ln-simple ln connector attn-qv attn-mlp lora full bitfit ln-attn adapter adapter+ln prefix prefix+ln mam"}
mkdir -p "$OUT/data"
python3 - "$OUT/data" <<'PY'
import json, sys, zlib, struct
d = sys.argv[1]
# A 400x300 RGB PNG drawn without any imaging library: a red square on grey.
w, h = 400, 300
rows = b"".join(b"\0" + b"".join(bytes((200, 30, 30)) if 100 <= x < 220 and 80 <= y < 200 else bytes((128, 128, 128))
                                  for x in range(w)) for y in range(h))
chunk = lambda t, b: struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
      chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(f"{d}/square.png", "wb").write(png)
answer = " ".join(["there is a red square and two blue circles on the left of a yellow star"] * 80)
json.dump([{"id": str(i), "image": "square.png",
            "conversations": [{"from": "human", "value": "<image>\nDescribe the picture."},
                              {"from": "gpt", "value": answer}]} for i in range(8)],
          open(f"{d}/train.json", "w"))
PY
printf 'strategy\ttrainable\tpeak_alloc_mib\toptimizer_mib\tstep_s\n' > "$OUT/summary.tsv"
for s in $STRATEGIES; do
  rm -rf "$OUT/run_$s"
  timeout 200 "$LNB" train --model "$MODEL" --strategy "$s" --data "$OUT/data/train.json" --images "$OUT/data" \
    --out "$OUT/run_$s" --device "$DEVICE" --dtype "$DTYPE" --gradient-checkpointing --batch-size 1 \
    --max-length "$MAXLEN" --max-steps "$STEPS" --lr 1e-5 --no-checkpoint --no-peft --quiet \
    > "$OUT/log_$s.txt" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    printf '%s\tFAILED rc=%s\t%s\n' "$s" "$rc" "$(tail -c 300 "$OUT/log_$s.txt" | tr '\n\t' '  ')" >> "$OUT/summary.tsv"
    continue
  fi
  cp "$OUT/run_$s/train.json" "$OUT/train_$s.json"
  python3 - "$OUT/train_$s.json" "$s" >> "$OUT/summary.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
steps = j["loss_curve"][1:] or j["loss_curve"]  # step 1 includes the allocator's warm-up
print(f'{sys.argv[2]}\t{j["trainable_params"]}\t{j["peak_train_memory_bytes"] / 2**20:.0f}\t'
      f'{j["optimizer_state_bytes"] / 2**20:.0f}\t{sum(r["seconds"] for r in steps) / len(steps):.3f}')
PY
done
cat "$OUT/summary.tsv"
