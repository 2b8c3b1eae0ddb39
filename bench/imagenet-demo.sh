#!/usr/bin/env bash
# The ImageNet way of working, end to end, on a machine with no ImageNet: Fashion-MNIST images are up-sampled to
# varied sizes and saved as JPEG in ImageNet's layout, ROOT/{train,val}/<wnid>/*.jpg, under the wnids of the
# matching WordNet 3.0 synsets; an AlexNet (torchvision's, at 3x64x64 input) is trained on the folder with the
# AlexNet recipe (shorter side 72, random 64x64 crops, flips, PCA lighting, ImageNet normalisation); then the
# pictures: filters, activation maps, curves, confusion matrix, and features from fc7.
#
# Needs: Debian's dataset-fashion-mnist and wordnet-base, and /usr/bin/python3 with numpy and PIL (python3-numpy,
# python3-pil) to write the JPEG files. Usage: bench/imagenet-demo.sh [OUT] [per-class-train] [epochs]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
per_class=${2:-300}
epochs=${3:-10}
root="$out/fashion-imagenet"
mkdir -p "$out"

dotnet build src/Fovea.Cli -c Release 2>&1 | tail -n 1
fovea() { dotnet src/Fovea.Cli/bin/Release/net10.0/fovea.dll "$@"; }

# Fashion-MNIST label -> WordNet synset (ImageNet's wnids where ImageNet has the class).
wnids="n03595614 n04489008 n04370048 n03236735 n03057021 n04133789 n04197391 n04120489 n02773037 n02872752"
echo "classes:"
for w in $wnids; do fovea wordnet "$w" | head -n 1 | sed 's/^/  /'; done

if [ ! -d "$root/train" ]; then
  /usr/bin/python3 - "$root" "$per_class" $wnids <<'PY'
import gzip, os, sys
import numpy as np
from PIL import Image
root, per_class, wnids = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
src = "/usr/share/datasets/fashion-mnist"
def load(kind):
    x = np.frombuffer(gzip.open(f"{src}/{kind}-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
    y = np.frombuffer(gzip.open(f"{src}/{kind}-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    return x, y
rng = np.random.default_rng(0)
for split, kind, n in (("train", "train", per_class), ("val", "t10k", max(50, per_class // 5))):
    x, y = load(kind)
    for label, wnid in enumerate(wnids):
        d = os.path.join(root, split, wnid)
        os.makedirs(d, exist_ok=True)
        for k, i in enumerate(np.flatnonzero(y == label)[:n]):
            # Varied sizes and aspect ratios, as photographs come: the loader resizes by the shorter side.
            w, h = int(rng.integers(72, 120)), int(rng.integers(72, 120))
            Image.fromarray(x[i]).resize((w, h), Image.BILINEAR).save(os.path.join(d, f"{wnid}_{k:05d}.JPEG"), quality=90)
print(f"wrote {root}")
PY
fi

# AlexNet (torchvision's layout) at 64x64 crops of images resized to 73 on the shorter side (8/7, as 256/224).
fovea train --model alexnet --dataset "imagefolder:$root" --image-size 64 --epochs "$epochs" --batch-size 64 --lr 0.01 --output "$out/run"
fovea eval --checkpoint "$out/run"
fovea viz confusion --checkpoint "$out/run" --output "$out/run/confusion.png"

first=$(ls "$root/val/n04133789" | head -n 1)
fovea viz curves --run "$out/run" --output "$out/curves.png"
fovea viz filters --checkpoint "$out/run" --output "$out/filters.png"
fovea viz activations --checkpoint "$out/run" --input "$root/val/n04133789/$first" --output "$out/activations"
fovea features --checkpoint "$out/run" --layer classifier.5 --input "$root/val/n04133789" --output "$out/sandal-fc7.npy"
echo "pictures: $out/curves.png $out/filters.png $out/run/confusion.png $out/activations/"
