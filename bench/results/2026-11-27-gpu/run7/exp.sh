#!/bin/bash
# Run 7: TiledGemm with T a compile-time constant (Side16, exp 1) and with the k loop also unrolled by four (SideU16,
# exp 2) against T read from the group size (SideDyn, exp 0: the committed kernel); exp 2 also under ILGPU's O2.
set -u
OUT=$1; R=$(mktemp -d); B=$(mktemp -d); tar -xzf .gpu/exp.tar.gz -C $B
export DOTNET_ROOT=$B/dotnet PATH=$B/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! ldconfig -p | grep -q 'libcuda\.so '; then lib=$(ldconfig -p | awk '/libcuda\.so\.1 / { print $NF; exit }'); mkdir -p $B/cuda; ln -sf "$lib" $B/cuda/libcuda.so; export LD_LIBRARY_PATH=$B/cuda:${LD_LIBRARY_PATH:-}; fi
F="dotnet $B/fovea/fovea.dll"
W=lenet5_train_b64,vgg16_infer_b1,vgg16_train_b4
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
PTXAS=$(command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null | head -1); CUOBJ=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null | head -1)
for v in SideDyn Side16 SideU16; do
  sed 's/^\.version 7\.0/.version 7.8/; s/^\.target sm_70/.target sm_90/' .gpu/ptx/${v}_ConvWeightRows_ConvPatches.ptx > $R/$v.ptx
  $PTXAS -arch=sm_90 -v $R/$v.ptx -o $R/$v.cubin > $R/ptxas-$v.txt 2>&1; $CUOBJ -sass $R/$v.cubin > $R/sass-$v.txt 2>&1
  echo "$v: $(grep -c FFMA $R/sass-$v.txt) FFMA $(grep -c 'LDS' $R/sass-$v.txt) LDS $(grep -cE '^ +/\*[0-9a-f]{4}\*/' $R/sass-$v.txt) instructions; $(grep -o 'Used [0-9]* registers' $R/ptxas-$v.txt)"
done
for i in 1 2; do
  for v in 0 1 2; do echo "== round $i exp $v"; FOVEA_GPU_EXP=$v timeout 60 $F bench --device cuda -w $W > $R/bench-r$i-e$v.txt 2>&1; tail -3 $R/bench-r$i-e$v.txt; done
  echo "== round $i exp 2 O2"; FOVEA_GPU_O2=1 FOVEA_GPU_EXP=2 timeout 60 $F bench --device cuda -w $W > $R/bench-r$i-e2o2.txt 2>&1; tail -3 $R/bench-r$i-e2o2.txt
done
for v in 1 2; do echo "== tests exp $v"; FOVEA_GPU_EXP=$v timeout 60 dotnet exec $B/dotnet/sdk/*/vstest.console.dll $B/gputests/Fovea.Gpu.Tests.dll --TestCaseFilter:"DisplayName~cuda" > $R/tests-e$v.txt 2>&1; tail -4 $R/tests-e$v.txt; done
tar -czf $OUT/run7.tgz -C $R .
