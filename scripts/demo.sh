#!/usr/bin/env bash
# The main job end to end on Fashion-MNIST, under runs/demo/. Re-running reuses finished work:
# training resumes from (or stops at) the checkpoint already there.
set -euo pipefail
bin=${1:-.build/release/pixelrobust}
out=${2:-runs/demo}
mkdir -p "$out"

model="$out/small-cnn.safetensors"
resume=()
[ -f "$model" ] && [ -f "$out/small-cnn.state.safetensors" ] && resume=(--resume)
echo "== training small-cnn on Fashion-MNIST (10 epochs, Adam 1e-3, batch 128, seed 0)"
"$bin" train --data fashion-mnist --arch small-cnn --epochs 10 --batch-size 128 --optimizer adam --lr 1e-3 \
  --seed 0 --output "$model" "${resume[@]}"

echo "== evaluating on the test split"
"$bin" evaluate --model "$model" --data fashion-mnist --split test --json "$out/evaluation.json" \
  --logits "$out/logits.npy" | tee "$out/evaluation.txt"

echo "== engine benchmark"
"$bin" bench --summary --json "$out/bench.json" > /dev/null

echo "demo: outputs in $out/"
