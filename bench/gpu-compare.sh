#!/bin/sh
# Fovea's GPU backend against PyTorch on the same GPU: LeNet-5 training, VGG-16 inference and training.
#
#   bench/gpu-compare.sh [cuda:N]     (default cuda:0)
#
# Runs `fovea bench --device DEVICE` on the model workloads, then bench/gpu_compare_torch.py (needs a CUDA build of
# PyTorch: set PYTHON to its interpreter, default python3) on the same device, with PyTorch's default TF32
# convolutions and in strict float32, and prints the three tables. FOVEA names the command that runs fovea (default:
# build src/Fovea.Cli and run it; bench/gpu-checks.sh sets it where there is no .NET SDK).
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE=${1:-cuda:0}
PYTHON=${PYTHON:-python3}
WORKLOADS=lenet5_train_b64,lenet5_train_b256,vgg16_infer_b1,vgg16_infer_b4,vgg16_train_b4

if [ -z "$FOVEA" ]; then
  dotnet build "$ROOT/src/Fovea.Cli" -c Release -nologo -v q >&2
  FOVEA="dotnet $ROOT/src/Fovea.Cli/bin/Release/net10.0/fovea.dll"
fi
echo "== Fovea ($DEVICE)"
$FOVEA bench --device "$DEVICE" -w "$WORKLOADS"
echo "== PyTorch ($DEVICE)"
"$PYTHON" "$ROOT/bench/gpu_compare_torch.py" "$DEVICE"
"$PYTHON" "$ROOT/bench/gpu_compare_torch.py" "$DEVICE" --strict-fp32
