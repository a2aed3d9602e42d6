#!/usr/bin/env bash
# Writes runs/demo/index.md linking every output of the demo that exists.
set -euo pipefail
out=${1:-runs/demo}
{
  echo "# PixelRobustness demo outputs"
  echo
  echo "Model: small-cnn trained on Fashion-MNIST ([checkpoint](small-cnn.safetensors), [training log](small-cnn.log.jsonl))."
  echo
  echo "## Evaluation"
  [ -f "$out/evaluation.txt" ] && { echo '```'; cat "$out/evaluation.txt"; echo '```'; }
  echo "Files: [evaluation.json](evaluation.json), [logits.npy](logits.npy)."
  if [ -d "$out/gradient-map" ]; then
    echo
    echo "## Gradient heatmaps (mean |dCE/dx| over the test set)"
    echo
    echo "![heatmap](gradient-map/heatmap.png) ![overlay](gradient-map/overlay.png)"
    echo
    echo "![per class](gradient-map/heatmap_per_class.png)"
    echo
    for f in "$out"/gradient-map/*; do n=$(basename "$f"); echo "- [gradient-map/$n](gradient-map/$n)"; done
  fi
  if [ -f "$out/attack/report.md" ]; then
    echo
    echo "## PGD-20 over epsilon"
    echo
    cat "$out/attack/report.md"
    echo
    for f in "$out"/attack/*.png; do n=$(basename "$f"); echo "![$n](attack/$n)"; done
  fi
  if [ -d "$out/suite/curves" ]; then
    echo
    echo "## The attack suite (first 200 test images)"
    echo
    cat "$out/suite/deepfool/report.md"
    echo
    cat "$out/suite/ensemble.md"
    echo
    for f in "$out"/suite/curves/*.png; do n=$(basename "$f"); echo "![$n](suite/curves/$n)"; done
    echo
    echo "Files: [deepfool.json](suite/deepfool.json), [cw.json](suite/cw.json), [jsma.json](suite/jsma.json), [ensemble.json](suite/ensemble.json), [curves.csv](suite/curves/curves.csv)."
  fi
  if [ -f "$out/certify/summary.md" ]; then
    echo
    echo "## Randomized smoothing: certified L2 radii, whole image and per pixel region (first 100 test images)"
    echo
    cat "$out/certify/summary.md"
    echo
    echo "![certified accuracy](certify/certified.png)"
    if [ -f "$out/smooth-attack/report.md" ]; then
      echo
      echo "### Smoothed inference under transfer and adaptive (EPGD) attacks"
      echo
      cat "$out/smooth-attack/report.md"
    fi
  fi
  if [ -f "$out/defense-table/table.md" ]; then
    echo
    echo "## Hwang et al.'s defense table (reduced: 100 test images, 2 seeds)"
    echo
    cat "$out/defense-table/table.md"
    echo
    echo "![defense table](defense-table/table.png)"
  fi
  if [ -f "$out/masked-sweep/table.md" ]; then
    echo
    echo "## Masked PGD: top-k, bottom-k and random-k pixels of G"
    echo
    cat "$out/masked-sweep/table.md"
    echo
    echo "![plot](masked-sweep/plot.png)"
    echo
    echo "Files: [table.json](masked-sweep/table.json), [table.csv](masked-sweep/table.csv)."
  fi
  for d in "$out"/prm-sweep; do
    [ -f "$d/iou_report.md" ] || continue
    n=$(basename "$d")
    echo
    echo "## PRM λ sweep ($n)"
    echo
    cat "$d/iou_report.md"
    echo
    [ -f "$d/heatmaps.png" ] && echo "![heatmaps]($n/heatmaps.png)"
  done
  if [ -f "$out/defense/report.md" ]; then
    echo
    echo "## Stochastic PRM switching under EOT-PGD"
    echo
    cat "$out/defense/report.md"
  fi
  if [ -f "$out/ross/transfer/matrix.md" ]; then
    echo
    echo "## Input-gradient regularization: transferred FGSM and saliency"
    echo
    cat "$out/ross/transfer/matrix.md"
    echo
    echo "![transfer](ross/transfer/matrix.png)"
    echo
    echo "![saliency](ross/saliency.png)"
  fi
  if [ -f "$out/bench.json" ]; then
    echo
    echo "## Engine benchmark"
    echo
    echo "[bench.json](bench.json)"
  fi
} > "$out/index.md"
