#!/usr/bin/env bash
# CNNs as feature extractors: does fine-tuning a trained network with its feature layers frozen beat training from
# scratch on a new, small data set? Fashion-MNIST is split by class into a SOURCE task (classes 0-4: T-shirt/top,
# trouser, pullover, dress, coat) and a small TARGET task (classes 5-9: sandal, shirt, sneaker, bag, ankle boot),
# both written as ImageNet-layout folders, ROOT/{train,val}/<name>/*.png. LeNet-5 is trained on SOURCE; then, per
# seed and learning rate, on TARGET (a) from scratch and (b) from the SOURCE run with `--freeze features`, with the
# same recipe (epochs, batch, learning rate, schedule, seed) for both arms, and both test top-1 accuracies are
# printed. Each arm gets the same grid of learning rates, so neither is tuned alone.
#
# Needs: Debian's dataset-fashion-mnist, and /usr/bin/python3 with numpy and PIL (python3-numpy, python3-pil).
# Usage: [LRS="0.002 0.01 0.05"] bench/fine-tune.sh [OUT] [target-train-per-class] [target-epochs] [seeds...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
per_class=${2:-20}
epochs=${3:-30}
shift $(( $# < 3 ? $# : 3 ))
seeds=${*:-1 2 3}
lrs=${LRS:-0.002 0.01 0.05}
mkdir -p "$out"

dotnet build src/Fovea.Cli -c Release 2>&1 | tail -n 1
fovea() { dotnet src/Fovea.Cli/bin/Release/net10.0/fovea.dll "$@"; }

if [ ! -d "$out/target/train" ]; then
  /usr/bin/python3 - "$out" "$per_class" <<'PY'
import gzip, os, sys
import numpy as np
from PIL import Image
out, target_per_class = sys.argv[1], int(sys.argv[2])
src = "/usr/share/datasets/fashion-mnist"
names = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
def load(kind):
    x = np.frombuffer(gzip.open(f"{src}/{kind}-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
    y = np.frombuffer(gzip.open(f"{src}/{kind}-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    return x, y
data = {"train": load("train"), "val": load("t10k")}
# SOURCE: 1,000 train / 200 val per class; TARGET: a few train images per class, the same 200 val per class.
for task, classes, counts in (("source", range(0, 5), {"train": 1000, "val": 200}),
                              ("target", range(5, 10), {"train": target_per_class, "val": 200})):
    for split, n in counts.items():
        x, y = data[split]
        for label in classes:
            d = os.path.join(out, task, split, names[label])
            os.makedirs(d, exist_ok=True)
            # The first n of each class in file order: a fixed, reproducible draw.
            for k, i in enumerate(np.flatnonzero(y == label)[:n]):
                Image.fromarray(x[i]).save(os.path.join(d, f"{names[label]}_{k:05d}.png"))
print(f"wrote {out}/source and {out}/target")
PY
fi

# The image-folder recipe at 28x28: resize to 32, random 28x28 crops and flips for training, centre crop to test.
# SOURCE gets fovea train's defaults (batch 64, SGD lr 0.05, cosine); TARGET's 100 images make 2 batches of 64,
# so it trains in batches of 16.
common=(--model lenet5 --image-size 28 --threads "$(nproc)")
if [ ! -f "$out/source-run/checkpoint.safetensors" ]; then
  fovea train "${common[@]}" --dataset "imagefolder:$out/source" --epochs 10 --seed 1 --output "$out/source-run" | tail -n 1
fi

# The last epoch's test top-1 accuracy, in percent.
acc() { /usr/bin/python3 -c 'import json,sys; print("%.2f" % (100 * json.loads(open(sys.argv[1]).read().splitlines()[-1])["test_accuracy"]))' "$1/metrics.jsonl"; }
printf '%-6s %-6s %-10s %-10s\n' seed lr scratch fine-tuned
for lr in $lrs; do
  for seed in $seeds; do
    for arm in scratch frozen; do
      extra=()
      [ "$arm" = frozen ] && extra=(--from "$out/source-run" --freeze features)
      run="$out/target-$arm-lr$lr-seed$seed"
      fovea train "${common[@]}" --dataset "imagefolder:$out/target" --batch-size 16 --epochs "$epochs" --lr "$lr" --seed "$seed" \
        --output "$run" "${extra[@]}" > "$run.log" 2>&1
    done
    printf '%-6s %-6s %-10s %-10s\n' "$seed" "$lr" "$(acc "$out/target-scratch-lr$lr-seed$seed")" "$(acc "$out/target-frozen-lr$lr-seed$seed")"
  done
done
