#!/usr/bin/env bash
# Installs what PixelRobustness needs from Debian's packages, once. Idempotent: with every
# package present it only checks. As root it runs apt-get; otherwise it prints the exact
# command and fails. Extra package names as arguments are installed too (make test-slurm
# passes slurm-wlm and munge).
set -euo pipefail

packages=(libopenblas-dev libpng-dev zlib1g-dev libturbojpeg0-dev libopenmpi-dev openmpi-bin pkg-config dataset-fashion-mnist "$@")

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: 'swift' is not on PATH. Install Swift 6 (https://www.swift.org/install/linux/) first." >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present (${packages[*]})"
  exit 0
fi

line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root:  $line" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
