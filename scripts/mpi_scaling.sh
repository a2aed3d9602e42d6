#!/usr/bin/env bash
# Data-parallel scaling of `pixelrobust train` under Open MPI on this machine: the same training
# (small-cnn on Fashion-MNIST, SGD, batch 128) as one process, as `mpirun -n 1` and as
# `mpirun -n RANKS`, printing each run's last-epoch images/s and test accuracy from its log.
#   bash scripts/mpi_scaling.sh BIN OUT [RANKS] [EPOCHS]      (as root it adds --allow-run-as-root)
set -euo pipefail
bin="$(realpath "${1:?usage: mpi_scaling.sh PIXELROBUST OUT [RANKS] [EPOCHS]}")"
out="${2:?usage: mpi_scaling.sh PIXELROBUST OUT [RANKS] [EPOCHS]}"
ranks="${3:-2}"
epochs="${4:-2}"
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
common=(train --data fashion-mnist --arch small-cnn --epochs "$epochs" --batch-size 128 --optimizer sgd --lr 0.05 --seed 3
        --test-limit 2000)
rm -rf "$out"
mkdir -p "$out"
"$bin" "${common[@]}" --output "$out/one/m.safetensors" 2> "$out/one.log" > /dev/null
mpirun "${root[@]}" -n 1 "$bin" "${common[@]}" --output "$out/rank1/m.safetensors" 2> "$out/rank1.log" > /dev/null
mpirun "${root[@]}" -n "$ranks" "$bin" "${common[@]}" --output "$out/ranks/m.safetensors" 2> "$out/ranks.log" > /dev/null
echo "| run | images/s (epoch $epochs) | test accuracy |"
echo "|---|---|---|"
for run in one rank1 ranks; do
  last="$(tail -n 1 "$out/$run/m.log.jsonl")"
  rate="$(sed -E 's/.*"imagesPerSecond":([0-9.]+).*/\1/' <<< "$last")"
  accuracy="$(sed -E 's/.*"testAccuracy":([0-9.]+).*/\1/' <<< "$last")"
  name=$([ "$run" = one ] && echo "one process" || { [ "$run" = rank1 ] && echo "mpirun -n 1" || echo "mpirun -n $ranks"; })
  printf '| %s | %.0f | %.2f%% |\n' "$name" "$rate" "$(python3 -c "print($accuracy * 100)")"
done
