namespace Fovea.Gpu.Tests;

/// <summary>
/// Runs one op on the CPU backend and on a backend under test from the same random inputs, and holds the second to
/// the first: the output and every input's gradient (from a random upstream gradient) within 1e-4 relative plus a
/// small absolute slack. Gradients must not be all zero, so a backward that does nothing cannot pass.
/// </summary>
internal static class Conformance
{
    public const float Relative = 1e-4f, Absolute = 1e-5f;

    /// <summary>
    /// The CPU accelerator with 4 x 4 thread groups, 16-thread reductions and products that split k whenever they have
    /// under 64 blocks, so shared memory, barriers and split sums are exercised.
    /// </summary>
    public const string TiledCpu = "ilgpu-cpu:1 tiled";

    /// <summary>
    /// Devices the suite runs on: ILGPU's CPU accelerator as configured (one-thread groups), the same with multi-thread
    /// groups, and every CUDA GPU present.
    /// </summary>
    public static IEnumerable<string> Devices()
    {
        yield return "ilgpu-cpu";
        yield return TiledCpu;
        for (int i = 0; i < GpuDevices.CudaCount; i++) yield return $"cuda:{i}";
    }

    /// <summary>The device a name from <see cref="Devices"/> stands for.</summary>
    public static Device Resolve(string name)
    {
        if (name != TiledCpu) return GpuDevices.Get(name);
        var backend = GpuDevices.BackendOf(GpuDevices.Get("ilgpu-cpu:1"));
        backend.Tile = 4;
        backend.ReduceGroup = 16;
        backend.SplitTarget = 64;
        return backend.Device;
    }

    /// <summary>
    /// Random inputs of the given shapes (uniform in [low, high)), <paramref name="op"/> on both devices, outputs and
    /// gradients compared.
    /// </summary>
    public static void Check(string device, int[][] shapes, Func<Tensor[], Tensor> op, float low = -1f, float high = 1f, int seed = 7,
        bool backward = true)
    {
        var g = new Generator(seed);
        var values = shapes.Select(s => Tensor.Uniform(s, low, high, g)).Select(t => t.ToArray()).ToArray();
        var target = Resolve(device);
        var (cpuOut, cpuGrads) = Run(Device.Cpu, shapes, values, op, backward, seed);
        var (gpuOut, gpuGrads) = Run(target, shapes, values, op, backward, seed);
        AssertClose("output", cpuOut, gpuOut);
        for (int i = 0; i < cpuGrads.Length; i++)
        {
            Assert.Contains(cpuGrads[i], v => v != 0f);
            AssertClose($"gradient of input {i}", cpuGrads[i], gpuGrads[i]);
        }
    }

    private static (float[] Output, float[][] Grads) Run(Device device, int[][] shapes, float[][] values, Func<Tensor[], Tensor> op, bool backward, int seed)
    {
        var inputs = shapes.Select((s, i) => Tensor.FromArray((float[])values[i].Clone(), s, device)).ToArray();
        foreach (var t in inputs) t.RequiresGrad = backward;
        var y = op(inputs);
        Assert.Equal(device, y.Device);
        var output = y.ToArray();
        if (!backward) return (output, []);
        // The same upstream gradient on both devices: a weighted sum makes every output element matter.
        var weights = Tensor.Uniform(y.Shape, -1f, 1f, new Generator(seed + 1)).To(device);
        (y * weights).Sum().Backward();
        return (output, inputs.Select(t => t.Grad!.ToArray()).ToArray());
    }

    public static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) || float.IsInfinity(e)) { Assert.Equal(e, a); continue; }
            float tolerance = Relative * Math.Abs(e) + Absolute;
            if (!(Math.Abs(e - a) <= tolerance))
                Assert.Fail($"{what}[{i}]: expected {e}, got {a} (difference {Math.Abs(e - a)}, tolerance {tolerance})");
        }
    }
}
