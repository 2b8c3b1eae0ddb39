namespace Fovea.Cli.Bench;

/// <summary>Every workload, in the issue's order.</summary>
internal static class BenchCatalog
{
    /// <summary>
    /// The issue's order (kernels, LeNet-5, then inference before training for the ImageNet models), after the
    /// machine's multiply-add peak that the GEMM's target is a share of.
    /// </summary>
    private static readonly string[] Order =
    [
        "fma_peak", "gemm_2048", "conv3x3_128_56_fwd", "conv3x3_128_56_fwdbwd",
        "lenet5_train_b64", "lenet5_train_b256", "lenet5_infer_b256",
        "alexnet_infer_b1", "vgg16_infer_b1", "alexnet_infer_b8", "vgg16_infer_b4",
        "alexnet_train_b16", "vgg16_train_b4",
    ];

    public static IReadOnlyList<BenchWorkload> All { get; } = Order
        .Select(n => FmaPeakWorkloads.All().Concat(GemmWorkloads.All()).Concat(ConvWorkloads.All()).Concat(LeNetWorkloads.All())
            .Concat(AlexNetWorkloads.All()).Concat(VggWorkloads.All()).Single(w => w.Name == n))
        .ToArray();

    public static IReadOnlyList<string> Names { get; } = All.Select(w => w.Name).ToArray();

    /// <summary>
    /// The workloads named, in the order given (comma-separated lists allowed); all of them when none is named.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static IReadOnlyList<BenchWorkload> Select(IEnumerable<string>? names)
    {
        var wanted = (names ?? []).SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (wanted.Count == 0) return All;
        var result = new List<BenchWorkload>();
        foreach (var n in wanted)
        {
            var w = All.FirstOrDefault(w => string.Equals(w.Name, n, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"unknown workload '{n}' (known: {string.Join(", ", Names)})");
            if (!result.Contains(w)) result.Add(w);
        }
        return result;
    }
}
