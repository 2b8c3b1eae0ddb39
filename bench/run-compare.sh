#!/bin/sh
# Side-by-side benchmark of Fovea against TorchSharp-cpu 0.107.0 (libtorch 2.10), and against ONNX Runtime 1.31.1.
#
#   bench/run-compare.sh [compare options]    each workload on both sides in one process, runs alternating
#                                             (e.g. --quick, --threads 1, -w gemm_2048 vgg16_train_b4, --json out.json)
#   bench/run-compare.sh ort [compare options] the four inference workloads (alexnet_infer_b1, alexnet_infer_b8,
#                                             vgg16_infer_b1, vgg16_infer_b4) against ONNX Runtime's CPU provider
#                                             running Fovea's ONNX export of the same model and weights, checked
#                                             against Fovea's output first; runs alternating as above
#   bench/run-compare.sh memory [STEPS]       peak resident memory of a VGG-16 batch-4 training process, each side
#                                             in its own process under /usr/bin/time -v (default 3 steps)
#   bench/run-compare.sh first-prediction [N] process start to first LeNet-5 prediction: 'fovea predict' on a
#                                             small checkpoint, published ReadyToRun and Native AOT, against a minimal
#                                             TorchSharp program, N runs each (default 5); and the published sizes
#
# Builds Release, then makes TorchSharp's native library loadable on Debian 12 (libstdc++ 12) with the patch in
# $TORCHSHARP_FIX (default /work/shared/tools/torchsharp-debian12/fix_torchsharp_debian12.sh; needs patchelf and gcc).
# The build copies libtorch (~480 MB) into the output folder, so the patch runs after every build.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench/Fovea.Bench.Compare/bin/Release/net10.0/linux-x64"
FIX=${TORCHSHARP_FIX:-/work/shared/tools/torchsharp-debian12/fix_torchsharp_debian12.sh}

dotnet build "$ROOT/bench/Fovea.Bench.Compare" -c Release -nologo -v q >&2
if [ -f "$FIX" ]; then
  sh "$FIX" "$OUT" >&2
else
  echo "run-compare.sh: no TorchSharp patch at $FIX; on Debian 12 libLibTorchSharp.so will not load" >&2
fi
HARNESS="$OUT/Fovea.Bench.Compare"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

case "$1" in
  memory)
    STEPS=${2:-3}
    echo "# peak memory, VGG-16 batch-4 training ($STEPS steps after setup), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for side in fovea torch; do
      /usr/bin/time -v "$HARNESS" single "$side" vgg16_train_b4 --steps "$STEPS" 2> "/tmp/fovea-bench-mem-$side.txt"
      kb=$(grep 'Maximum resident set size' "/tmp/fovea-bench-mem-$side.txt" | awk '{ print $NF }')
      echo "$side: maximum resident set size $(awk -v k="$kb" 'BEGIN { printf "%.2f GB", k * 1024 / 1e9 }') (/usr/bin/time -v)"
    done
    ;;
  first-prediction)
    N=${2:-5}
    # The tool as published: ReadyToRun (framework-dependent) and Native AOT (needs clang and zlib1g-dev).
    command -v clang > /dev/null || { echo "run-compare.sh first-prediction: the Native AOT publish needs clang and zlib1g-dev (apt-get install clang zlib1g-dev)" >&2; exit 1; }
    PUB=$(mktemp -d)
    dotnet publish "$ROOT/src/Fovea.Cli" -c Release -r linux-x64 --self-contained false -o "$PUB/r2r" -nologo -v q >&2
    dotnet publish "$ROOT/src/Fovea.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$PUB/aot" -nologo -v q >&2
    CK=$(mktemp -d)
    "$HARNESS" make-checkpoint "$CK" >&2
    echo "# process start to first LeNet-5 prediction, $N runs each alternating, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    : > "$CK/r2r.txt"; : > "$CK/aot.txt"; : > "$CK/torch.txt"
    i=0
    while [ $i -lt "$N" ]; do
      for b in r2r aot; do
        /usr/bin/time -f %e -o "$CK/t" "$PUB/$b/fovea" predict -c "$CK" -i "$CK/digit.npy" > /dev/null; cat "$CK/t" >> "$CK/$b.txt"
      done
      /usr/bin/time -f %e -o "$CK/t" "$HARNESS" predict-torch > /dev/null; cat "$CK/t" >> "$CK/torch.txt"
      i=$((i + 1))
    done
    size() { du -b --exclude='*.pdb' --exclude='*.dbg' "$1" | tail -1 | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
    echo "fovea predict, ReadyToRun: median $(median < "$CK/r2r.txt") s  (runs: $(tr '\n' ' ' < "$CK/r2r.txt")), published $(size "$PUB/r2r")"
    echo "fovea predict, Native AOT: median $(median < "$CK/aot.txt") s  (runs: $(tr '\n' ' ' < "$CK/aot.txt")), published $(size "$PUB/aot")"
    echo "TorchSharp minimal LeNet:  median $(median < "$CK/torch.txt") s  (runs: $(tr '\n' ' ' < "$CK/torch.txt"))"
    rm -rf "$CK" "$PUB"
    ;;
  *)
    exec "$HARNESS" "$@"
    ;;
esac
