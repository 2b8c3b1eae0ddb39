#!/usr/bin/env bash
# Dense against top-k gradient exchange (issue 9): LeNet-5 on Fashion-MNIST with two in-process replicas, the same
# seed, `fovea train`'s defaults (10 epochs), once with dense gradients and once with topk:RATIO (default 0.01) and
# error feedback. Prints both test accuracies, their difference and the gradient bytes each replica sends per step.
# Targets: accuracy within 0.5 points of dense, bytes at most 1/50 of dense. Timing is reported, never asserted.
#   bench/grad-compression.sh [RATIO] [EXTRA fovea train OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
ratio=${1:-0.01}
shift || true
dotnet build src/Fovea.Cli -c Release -warnaserror 2>&1 | tail -n 1
fovea() { dotnet src/Fovea.Cli/bin/Release/net10.0/fovea.dll "$@"; }
out=${BENCH_OUT:-$(mktemp -d)}

run() { # name, args...
  local name=$1; shift
  local start end
  start=$(date +%s)
  fovea train --dataset fashion-mnist --model lenet5 --seed 1 --replicas 2 --threads 2 --output "$out/$name" "$@" > "$out/$name.log" 2>&1
  end=$(date +%s)
  local last acc sent dense
  last=$(tail -n 1 "$out/$name/metrics.jsonl")
  acc=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<< "$last")
  sent=$(sed -n 's/.*"bytes_sent_per_step":\([0-9]*\).*/\1/p' <<< "$last")
  dense=$(sed -n 's/.*"dense_bytes_per_step":\([0-9]*\).*/\1/p' <<< "$last")
  printf '%-14s test accuracy %7.2f %%   %8d B/step per replica (%.4f of dense %d)   wall %5d s\n' \
    "$name" "$(awk -v a="$acc" 'BEGIN{print 100*a}')" "$sent" "$(awk -v s="$sent" -v d="$dense" 'BEGIN{print s/d}')" "$dense" $((end - start))
  echo "$acc" > "$out/$name.acc"
}

run dense --grad-compression none "$@"
run "topk-$ratio" --grad-compression "topk:$ratio" "$@"
awk -v d="$(cat "$out/dense.acc")" -v t="$(cat "$out/topk-$ratio.acc")" \
  'BEGIN{printf "top-k minus dense: %+.2f points (target: within 0.5)\n", 100*(t-d)}'
echo "runs and logs in $out"
