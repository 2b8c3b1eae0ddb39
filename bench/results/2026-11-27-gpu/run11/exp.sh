#!/bin/bash
# Run 11: the product kernel with two sets of shared-memory panels and one barrier a step ("double": the working tree's
# Fovea.Gpu) against 074853d's single set and two barriers ("single"), three alternating rounds of fovea bench; the
# CUDA tests on the new build. Each log is written straight to $OUT.
set -u
OUT=$1; B=$(mktemp -d); tar -xzf .gpu/bundle.tar.gz -C $B
export DOTNET_ROOT=$B/dotnet PATH=$B/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! ldconfig -p | grep -q 'libcuda\.so '; then lib=$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }'); mkdir -p $B/cuda; ln -sf "$lib" $B/cuda/libcuda.so; export LD_LIBRARY_PATH=$B/cuda:${LD_LIBRARY_PATH:-}; fi
F="dotnet $B/fovea/fovea.dll"
W=lenet5_train_b64,lenet5_train_b256,vgg16_infer_b1,vgg16_infer_b4,vgg16_train_b4
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
echo "== tests, double"; cp .gpu/variants/double/Fovea.Gpu.dll $B/gputests/Fovea.Gpu.dll
timeout 60 dotnet exec $B/dotnet/sdk/*/vstest.console.dll $B/gputests/Fovea.Gpu.Tests.dll --TestCaseFilter:"DisplayName~cuda" > $OUT/tests.txt 2>&1; grep -E "Passed!|Failed|Total tests|Passed:" $OUT/tests.txt
for i in 1 2 3; do for v in single double; do
  cp .gpu/variants/$v/Fovea.Gpu.dll $B/fovea/Fovea.Gpu.dll
  echo "== round $i $v"; timeout 60 $F bench --device cuda -w $W > $OUT/bench-r$i-$v.txt 2>&1; tail -5 $OUT/bench-r$i-$v.txt
done; done
