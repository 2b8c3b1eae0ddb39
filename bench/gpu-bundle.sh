#!/bin/sh
# Packs what bench/gpu-checks.sh needs on a GPU machine that has no .NET SDK: the .NET runtime and the SDK's test
# runner (vstest) from this machine's dotnet, `fovea` published for linux-x64, and the built GPU test project.
#
#   bench/gpu-bundle.sh [OUT.tar.gz]     (default gpu-bundle.tar.gz; about 50 MB)
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-gpu-bundle.tar.gz}")
DOTNET_DIR=$(dirname "$(realpath "$(command -v dotnet)")")
SDK=$(dotnet --version)
RUNTIME=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
mkdir -p "$(dirname "$OUT")"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE/dotnet/shared" "$STAGE/dotnet/sdk/$SDK/Extensions"
cp -a "$DOTNET_DIR/dotnet" "$DOTNET_DIR/host" "$STAGE/dotnet/"
cp -a "$DOTNET_DIR/shared/Microsoft.NETCore.App" "$STAGE/dotnet/shared/"
# vstest.console and the assemblies it loads (its deps.json, the test-host provider, the loggers).
(cd "$DOTNET_DIR/sdk/$SDK" && cp -a vstest.console.* Microsoft.TestPlatform.*.dll Microsoft.VisualStudio.TestPlatform.*.dll \
  Microsoft.Extensions.FileSystemGlobbing.dll Microsoft.Extensions.DependencyModel.dll Newtonsoft.Json.dll "$STAGE/dotnet/sdk/$SDK/" \
  && cp Extensions/*.dll "$STAGE/dotnet/sdk/$SDK/Extensions/")

dotnet publish "$ROOT/src/Fovea.Cli" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=false \
  -o "$STAGE/fovea" -nologo -v q
dotnet build "$ROOT/tests/Fovea.Gpu.Tests" -c Release -nologo -v q
cp -a "$ROOT/tests/Fovea.Gpu.Tests/bin/Release/net10.0" "$STAGE/gputests"
# Satellite resources and XML docs are not needed to run; the PDBs stay for line numbers in stack traces.
find "$STAGE" -name '*.xml' -delete
find "$STAGE" -type d \( -name cs -o -name de -o -name es -o -name fr -o -name it -o -name ja -o -name ko -o -name pl \
  -o -name pt-BR -o -name ru -o -name tr -o -name zh-Hans -o -name zh-Hant \) -prune -exec rm -rf {} +
tar -czf "$OUT" -C "$STAGE" .
echo "gpu-bundle: $OUT ($(du -h "$OUT" | cut -f1); .NET $RUNTIME, vstest from SDK $SDK)"
