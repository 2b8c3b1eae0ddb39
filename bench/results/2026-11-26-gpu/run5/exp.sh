#!/bin/bash
set -u
OUT=$1; B=$(mktemp -d); tar -xzf .gpu/bundle.tar.gz -C $B
export DOTNET_ROOT=$B/dotnet PATH=$B/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! ldconfig -p | grep -q 'libcuda\.so '; then lib=$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }'); mkdir -p $B/cuda; ln -sf "$lib" $B/cuda/libcuda.so; export LD_LIBRARY_PATH=$B/cuda:${LD_LIBRARY_PATH:-}; fi
F="dotnet $B/fovea/fovea.dll"
W=lenet5_train_b64,lenet5_train_b256,vgg16_infer_b1,vgg16_infer_b4,vgg16_train_b4
for i in 1 2; do for v in 0 1; do
  echo "== round $i eight $v"; FOVEA_GPU_EIGHT=$v timeout 45 $F bench --device cuda -w $W 2>&1 | tee $OUT/bench-r$i-e$v.txt | tail -5
done; done
echo "== tests, eight 1"
FOVEA_GPU_EIGHT=1 timeout 40 dotnet exec $B/dotnet/sdk/*/vstest.console.dll $B/gputests/Fovea.Gpu.Tests.dll --TestCaseFilter:"DisplayName~cuda" > $OUT/tests-e1.txt 2>&1; tail -3 $OUT/tests-e1.txt
echo "== torch"
timeout 40 python3 bench/gpu_compare_torch.py cuda:0 --strict-fp32 2>&1 | tee $OUT/torch.txt
echo "== ncu"
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
FOVEA_GPU_EIGHT=0 timeout 45 $NCU --launch-skip 60 --launch-count 6 --section SpeedOfLight --section Occupancy --section LaunchStats $F bench --device cuda -w vgg16_infer_b1 --runs 1 --quick > $OUT/ncu.txt 2>&1
grep -E "Kernel|Duration|Throughput|Occupancy|Registers|Block Size|Grid Size|Shared Memory" $OUT/ncu.txt | head -80
