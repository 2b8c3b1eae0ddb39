#!/bin/bash
# Run 8: the product kernel reading a thread's four A and four B values as one 16-byte shared-memory load each, and
# splitting k into its parts once per step (quad: the working tree's Fovea.Gpu) against dfa662b's (side16), two
# alternating rounds; then bench/gpu-checks.sh on the new build and Nsight Compute on VGG-16's convolutions.
set -u
OUT=$1; R=$(mktemp -d); B=$(mktemp -d); tar -xzf .gpu/bundle.tar.gz -C $B
export DOTNET_ROOT=$B/dotnet PATH=$B/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! ldconfig -p | grep -q 'libcuda\.so '; then lib=$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }'); mkdir -p $B/cuda; ln -sf "$lib" $B/cuda/libcuda.so; export LD_LIBRARY_PATH=$B/cuda:${LD_LIBRARY_PATH:-}; fi
F="dotnet $B/fovea/fovea.dll"
W=lenet5_train_b64,lenet5_train_b256,vgg16_infer_b1,vgg16_infer_b4,vgg16_train_b4
for i in 1 2; do for v in side16 quad; do
  cp .gpu/variants/$v/Fovea.Gpu.dll $B/fovea/Fovea.Gpu.dll
  echo "== round $i $v"; timeout 70 $F bench --device cuda -w $W > $R/bench-r$i-$v.txt 2>&1; tail -5 $R/bench-r$i-$v.txt
done; done
GPU_TRAIN_LIMIT=60 GPU_TESTS_LIMIT=60 GPU_COMPARE_LIMIT=120 bash bench/gpu-checks.sh .gpu/bundle.tar.gz $R/checks .gpu/data > $R/checks.txt 2>&1
grep -E "^== |Passed!|Failed|Total tests|test accuracy" $R/checks.txt; tail -22 $R/checks/compare.txt
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
timeout 50 $NCU --launch-skip 60 --launch-count 6 --section SpeedOfLight --section Occupancy --section LaunchStats --section ComputeWorkloadAnalysis $F bench --device cuda -w vgg16_infer_b1 --runs 1 --quick > $R/ncu.txt 2>&1
grep -E "Kernel|Duration|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Issue Slots Busy|Executed Ipc A|Grid Size" $R/ncu.txt | head -50
cp .gpu/exp.sh $R/; tar -czf $OUT/run8.tgz -C $R .
