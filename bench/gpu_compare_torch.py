#!/usr/bin/env python3
"""PyTorch's side of bench/gpu-compare.sh: the same workloads as `fovea bench --device cuda` on the same GPU.

LeNet-5 training (batch 64 and 256, images/s), VGG-16 inference (batch 1 ms, batch 4 images/s) and training
(batch 4, ms per step), each timed after a warm-up with torch.cuda.synchronize() around every run; prints one
line per workload as `name median min max unit`, like `fovea bench`.

    gpu_compare_torch.py [cuda:N] [--strict-fp32]

PyTorch lets cuDNN run float32 convolutions in TF32 by default (10-bit mantissa products); Fovea's kernels multiply in
full float32, so --strict-fp32 turns TF32 off for the like-for-like figure.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn


def lenet5(classes=10):
    # Fovea's ModelZoo "lenet5" (src/Fovea.Models/LeNet5.cs): ReLU and max pooling, padding 2 on the first convolution.
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))


def vgg16(classes=1000):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, classes))


def timed(step, runs, warmup):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def workload(name, model, shape, classes, batch, train, unit, runs, warmup, device):
    torch.manual_seed(5)
    net = model().to(device)
    x = torch.randn(batch, *shape, device=device)
    y = torch.randint(0, classes, (batch,), device=device)
    if train:
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        loss = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss(net(x), y).backward()
            opt.step()
    else:
        net.eval()

        def step():
            with torch.no_grad():
                net(x)
    t = timed(step, runs, warmup)
    values = [batch / s for s in t] if unit == "img/s" else [s * 1000 for s in t]
    print(f"{name} {statistics.median(values):.2f} {min(values):.2f} {max(values):.2f} {unit}")


def main():
    if not torch.cuda.is_available():
        sys.exit("gpu_compare_torch.py: torch sees no CUDA device")
    args = sys.argv[1:]
    strict = "--strict-fp32" in args
    names = [a for a in args if not a.startswith("--")]
    device = torch.device(names[0] if names else "cuda:0")
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = not strict
    torch.backends.cuda.matmul.allow_tf32 = False
    mode = "float32 throughout" if strict else "TF32 convolutions (PyTorch's default)"
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name(device)}, {mode}")
    workload("lenet5_train_b64", lenet5, (1, 28, 28), 10, 64, True, "img/s", 20, 5, device)
    workload("lenet5_train_b256", lenet5, (1, 28, 28), 10, 256, True, "img/s", 20, 5, device)
    workload("vgg16_infer_b1", vgg16, (3, 224, 224), 1000, 1, False, "ms", 10, 3, device)
    workload("vgg16_infer_b4", vgg16, (3, 224, 224), 1000, 4, False, "img/s", 10, 3, device)
    workload("vgg16_train_b4", vgg16, (3, 224, 224), 1000, 4, True, "ms", 5, 2, device)


if __name__ == "__main__":
    main()
