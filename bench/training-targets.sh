#!/usr/bin/env bash
# Reports the training issue's targets: LeNet-5 test accuracy with `fovea train`'s defaults on the MNIST sample
# (target >= 98.5%) and on Fashion-MNIST within 10 epochs (target >= 90.5%), each with its wall time, and that
# the same seed and thread count give the same metrics line for line. Timing is reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Fovea.Cli -c Release -warnaserror 2>&1 | tail -n 1
fovea() { dotnet src/Fovea.Cli/bin/Release/net10.0/fovea.dll "$@"; }
out=$(mktemp -d)

run() { # name, args...
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  fovea train --output "$out/$name" "$@" > "$out/$name.log" 2>&1
  end=$(date +%s.%N)
  local acc
  acc=$(sed -n 's/^test accuracy: \([0-9.]*\) %.*/\1/p' "$out/$name.log")
  printf '%-28s test accuracy %6s %%   wall %6.1f s\n' "$name" "$acc" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')"
}

run mnist-defaults --dataset mnist
run fashion-mnist-10-epochs --dataset fashion-mnist --epochs 10
run mnist-defaults-again --dataset mnist

# Same seed, same threads: every metric but the timings must repeat.
strip() { sed -E 's/,?"(seconds|images_per_second)":[0-9.]+//g' "$1"; }
if diff <(strip "$out/mnist-defaults/metrics.jsonl") <(strip "$out/mnist-defaults-again/metrics.jsonl") > /dev/null; then
  echo "determinism: the two mnist runs' metrics.jsonl agree line for line"
else
  echo "determinism: the two mnist runs DIFFER"; exit 1
fi
