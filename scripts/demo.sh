#!/usr/bin/env bash
# The main job end to end on Fashion-MNIST, under runs/demo/. Re-running reuses finished work:
# training resumes from (or stops at) the checkpoint already there.
set -euo pipefail
bin=${1:-.build/release/pixelrobust}
out=${2:-runs/demo}
mkdir -p "$out" "$out/attack" "$out/defense" "$out/ross" "$out/suite"
start=$(date +%s)

model="$out/small-cnn.safetensors"
resume=()
[ -f "$model" ] && [ -f "$out/small-cnn.state.safetensors" ] && resume=(--resume)
echo "== 1. training small-cnn on Fashion-MNIST (10 epochs, Adam 1e-3, batch 128, seed 0)"
"$bin" train --data fashion-mnist --arch small-cnn --epochs 10 --batch-size 128 --optimizer adam --lr 1e-3 \
  --seed 0 --output "$model" "${resume[@]}"

echo "== 2. evaluating on the test split"
"$bin" evaluate --model "$model" --data fashion-mnist --split test --json "$out/evaluation.json" \
  --logits "$out/logits.npy" | tee "$out/evaluation.txt"

echo "== 3. gradient heatmaps over the 10,000 test images"
"$bin" gradient-map --model "$model" --data fashion-mnist --split test --per-class --signed \
  --output "$out/gradient-map"

echo "== 4. PGD-20 over epsilon (first 1,000 test images)"
"$bin" attack --model "$model" --data fashion-mnist --limit 1000 --attack pgd --norm linf \
  --epsilon 0,0.02,0.05,0.1 --steps 20 --step-size 0.01 --save-examples "$out/attack" \
  --json "$out/attack/report.json" > "$out/attack/report.md"
cat "$out/attack/report.md"

echo "== 5. masked PGD: top-k against bottom-k against random-k pixels of G (first 1,000 test images)"
"$bin" masked-sweep --model "$model" --data fashion-mnist --limit 1000 --map "$out/gradient-map/G.npy" \
  --fractions 5,10,25,50,100 --kinds top,bottom,random --attack pgd --epsilon 0.1 --steps 10 --step-size 0.02 \
  --output "$out/masked-sweep"

echo "== 6. PRM λ sweep (pattern v0, 20,000 training images, 1 epoch per λ)"
"$bin" prm sweep --data fashion-mnist --pattern v0 --lambdas 0,0.3,3 --mixes 0.5 --epochs 1 --limit 20000 \
  --evaluation-images 500 --output "$out/prm-sweep"

echo "== 7. stochastic PRM switching against EOT-PGD"
for shift in 1,1 0,1; do
  name="prm-v0-${shift/,/-}-lambda0.3-20k"
  [ -f "$out/$name/model.safetensors" ] && [ -f "$out/$name/model.state.safetensors" ] && r=(--resume) || r=()
  "$bin" prm train --data fashion-mnist --pattern v0 --shift "$shift" --lambda 0.3 --mix 0.5 --epochs 1 --limit 20000 \
    --output "$out/$name/model.safetensors" "${r[@]}"
done
"$bin" prm defend --models "$out/prm-sweep/lambda_0.3_mix_0.5/model.safetensors,$out/prm-v0-1-1-lambda0.3-20k/model.safetensors,$out/prm-v0-0-1-lambda0.3-20k/model.safetensors" \
  --output "$out/defense/switch.safetensors"
"$bin" prm defend --model "$model" --output "$out/defense/resize-pad.safetensors"
attack=(--data fashion-mnist --limit 200 --attack pgd --epsilon 0.05,0.1 --steps 10 --step-size 0.02 --eot 4 --classify 3 --repeats 2 --baseline "$model")
{
  echo "### PRM switch (3 modules), EOT-PGD"; echo
  "$bin" attack --model "$out/defense/switch.safetensors" "${attack[@]}" --json "$out/defense/switch.json"
  echo; echo "### a single PRM (λ = 0.3), same attack"; echo
  "$bin" attack --model "$out/prm-sweep/lambda_0.3_mix_0.5/model.safetensors" "${attack[@]}" --json "$out/defense/single.json"
  echo; echo "### random resize-and-pad in front of small-cnn, same attack"; echo
  "$bin" attack --model "$out/defense/resize-pad.safetensors" "${attack[@]}" --json "$out/defense/resize-pad.json"
} > "$out/defense/report.md"
cat "$out/defense/report.md"

echo "== 8. input-gradient regularization (Ross & Doshi-Velez): λ = 1, 1 epoch on 20,000 images; transfer and saliency"
gr="$out/ross/gr-lambda1-20k.safetensors"
[ -f "$gr" ] && [ -f "$out/ross/gr-lambda1-20k.state.safetensors" ] && r=(--resume) || r=()
"$bin" train --data fashion-mnist --arch small-cnn --epochs 1 --limit 20000 --seed 0 \
  --objective gradient-regularization --lambda 1 --output "$gr" "${r[@]}"
"$bin" transfer --models "$model,$gr" --data fashion-mnist --limit 1000 --attack fgsm --epsilon 0.1,0.2 \
  --output "$out/ross/transfer"
"$bin" saliency-grid --models "$model,$gr" --data fashion-mnist --limit 6 --output "$out/ross/saliency.png"

echo "== 9. the attack suite (first 200 test images): DeepFool, C&W, JSMA; APGD + Square ensemble; curves"
suite=(--model "$model" --data fashion-mnist --limit 200)
"$bin" attack "${suite[@]}" --attack deepfool --norm l2 --output "$out/suite/deepfool" --json "$out/suite/deepfool.json" > /dev/null
"$bin" attack "${suite[@]}" --attack cw --norm l2 --search-steps 5 --json "$out/suite/cw.json" > /dev/null
"$bin" attack "${suite[@]}" --attack jsma --targeted --json "$out/suite/jsma.json" > /dev/null
"$bin" attack "${suite[@]}" --ensemble pgd,apgd-ce,apgd-dlr,square --steps 20 --step-size 0.01 --epsilon 0,0.02,0.05,0.1 \
  --json "$out/suite/ensemble.json" > "$out/suite/ensemble.md"
"$bin" curves --reports "$out/suite/deepfool.json,$out/suite/cw.json,$out/suite/ensemble.json,$out/suite/jsma.json" \
  --title "small-cnn, 200 test images" --output "$out/suite/curves" > /dev/null
cat "$out/suite/deepfool/report.md" "$out/suite/ensemble.md"

echo "== 10. randomized smoothing: certified L2 radii of small-cnn at σ = 0.12, whole image and top/bottom/random-25% of G (first 100 test images, n = 1,000); EPGD"
"$bin" smooth certify --model "$model" --data fashion-mnist --limit 100 --sigma 0.12 --samples 1000 --selection-samples 100 \
  --fractions 25 --map "$out/gradient-map/G.npy" --radii 0.1,0.2,0.3 --output "$out/certify" --resume > /dev/null
cat "$out/certify/summary.md"
"$bin" smooth attack --model "$model" --data fashion-mnist --limit 100 --sigma 0.12 --samples 16 --epsilon 0.05 --steps 10 \
  --step-size 0.01 --attack-samples 8 --output "$out/smooth-attack" > /dev/null
cat "$out/smooth-attack/report.md"

echo "== 11. Hwang et al.'s defense table, reduced: 100 test images, 3 attacks, 2 seeds, gray-box and adaptive"
"$bin" defense-table --model "$model" --data fashion-mnist --limit 100 --defenses region:0.02:20,randomization:0.9,deflection:20:3 \
  --attacks fgsm,pgd,deepfool --epsilon 0.1 --steps 10 --step-size 0.02 --seeds 2 --eot 4 --classify 2 --batch-size 50 \
  --output "$out/defense-table" > /dev/null
cat "$out/defense-table/table.md"

echo "== 12. engine benchmark"
"$bin" bench --summary --json "$out/bench.json" > /dev/null

bash "$(dirname "$0")/demo-index.sh" "$out"
echo "demo: finished in $(( $(date +%s) - start )) s; open $out/index.md"
