#!/bin/bash
# The GPU checks, on a machine with an NVIDIA GPU and no .NET SDK, from a bundle made by bench/gpu-bundle.sh:
# the GPU test project on every CUDA device (the conformance suite against the CPU backend, LeNet-5 training),
# `fovea train` of LeNet-5 on MNIST on the GPU, and bench/gpu-compare.sh against PyTorch.
#
#   bench/gpu-checks.sh BUNDLE.tar.gz OUTDIR [DATA]     (DATA: a fovea data folder holding mnist/, default ./data)
#
# Each step has its own time limit and log in OUTDIR, so one that fails or hangs does not hide the others.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=$(realpath "$1")
OUT=$(realpath -m "$2")
export FOVEA_DATA=$(realpath -m "${3:-data}")
B=$(mktemp -d)
mkdir -p "$OUT"
tar -xzf "$BUNDLE" -C "$B"
export DOTNET_ROOT=$B/dotnet PATH=$B/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# ILGPU opens the driver as libcuda.so; a container's driver mount often has only libcuda.so.1.
if ! ldconfig -p | grep -q 'libcuda\.so '; then
  lib=$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }')
  if [ -n "$lib" ]; then mkdir -p "$B/cuda"; ln -sf "$lib" "$B/cuda/libcuda.so"; export LD_LIBRARY_PATH=$B/cuda:${LD_LIBRARY_PATH:-}; fi
fi
export FOVEA="dotnet $B/fovea/fovea.dll"

step() { # name limit command...
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  local rc=$?
  echo "== $name: exit $rc, $((SECONDS - start)) s" | tee -a "$OUT/summary.txt"
  tail -n 25 "$OUT/$name.txt"
}

nvidia-smi > "$OUT/gpu.txt" 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$OUT/summary.txt"
# A device index that cannot exist: the error lists the devices ILGPU found.
step devices 60 $FOVEA bench --device cuda:99 -w lenet5_train_b64
step tests "${GPU_TESTS_LIMIT:-240}" dotnet exec "$B"/dotnet/sdk/*/vstest.console.dll "$B/gputests/Fovea.Gpu.Tests.dll" \
  --TestCaseFilter:"DisplayName~cuda" --logger:"console;verbosity=normal"
step train "${GPU_TRAIN_LIMIT:-150}" $FOVEA train --model lenet5 --dataset mnist --device cuda --epochs "${GPU_TRAIN_EPOCHS:-10}" --output "$B/run"
step compare "${GPU_COMPARE_LIMIT:-240}" "$ROOT/bench/gpu-compare.sh" cuda:0
