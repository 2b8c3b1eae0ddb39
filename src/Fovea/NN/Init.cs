namespace Fovea.NN;

/// <summary>Weight initialisation, with PyTorch's formulas (torch.nn.init). Each fills a tensor in place.</summary>
public static class Init
{
    /// <summary>fan_in = size(1)·receptive field, fan_out = size(0)·receptive field.</summary>
    public static (int FanIn, int FanOut) Fans(Tensor t)
    {
        if (t.Rank < 2) throw new ArgumentException($"fan in and fan out need a tensor of rank 2 or more, got {t.ShapeString}");
        int receptive = 1;
        for (int i = 2; i < t.Rank; i++) receptive *= t.Size(i);
        return (t.Size(1) * receptive, t.Size(0) * receptive);
    }

    /// <summary>The recommended gain for a non-linearity (torch.nn.init.calculate_gain).</summary>
    public static float Gain(string nonlinearity, float param = 0.01f) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "sigmoid" => 1f,
        "tanh" => 5f / 3f,
        "relu" => MathF.Sqrt(2f),
        "leaky_relu" => MathF.Sqrt(2f / (1 + param * param)),
        _ => throw new ArgumentException($"unknown non-linearity '{nonlinearity}' (known: linear, conv1d, conv2d, sigmoid, tanh, relu, leaky_relu)"),
    };

    public static void Uniform(Tensor t, float low, float high, Generator? g = null) => Fill(t, v => (g ?? Generator.Default).FillUniform(v, low, high));

    public static void Normal(Tensor t, float mean = 0f, float std = 1f, Generator? g = null) => Fill(t, v => (g ?? Generator.Default).FillNormal(v, mean, std));

    // A dense CPU tensor is drawn into in place: a host copy of every weight would be garbage the size of the model
    // (553 MB for VGG-16) that the collector may not return before training starts, raising the process's peak.
    // Other tensors are drawn on the host into one buffer and copied once.
    private static void Fill(Tensor t, SpanAction draw)
    {
        // Drawn straight into the buffer, which CopyFrom's refusal would not see.
        t.RequireWritable("initialising");
        if (t.Storage is CpuStorage { DType: DType.Float32 } cpu && t.IsContiguous)
        {
            draw(cpu.Floats.AsSpan(t.Offset, t.NumEl));
            return;
        }
        var v = new float[t.NumEl];
        draw(v);
        t.CopyFrom(Tensor.FromArray(v, t.Shape, t.Device));
    }

    private delegate void SpanAction(Span<float> values);

    public static void Constant(Tensor t, float value) => t.CopyFrom(Tensor.Full(t.Shape, value, t.Device));

    /// <summary>U(−b, b) with b = gain·√(3 / fan), fan = fan_in (default) or fan_out.</summary>
    public static void KaimingUniform(Tensor t, float a = 0f, bool fanOut = false, string nonlinearity = "leaky_relu", Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        float bound = Gain(nonlinearity, a) * MathF.Sqrt(3f / (fanOut ? fo : fi));
        Uniform(t, -bound, bound, g);
    }

    /// <summary>N(0, std²) with std = gain / √fan.</summary>
    public static void KaimingNormal(Tensor t, float a = 0f, bool fanOut = false, string nonlinearity = "leaky_relu", Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        Normal(t, 0f, Gain(nonlinearity, a) / MathF.Sqrt(fanOut ? fo : fi), g);
    }

    /// <summary>U(−b, b) with b = gain·√(6 / (fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor t, float gain = 1f, Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        float bound = gain * MathF.Sqrt(6f / (fi + fo));
        Uniform(t, -bound, bound, g);
    }

    /// <summary>N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Tensor t, float gain = 1f, Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        Normal(t, 0f, gain * MathF.Sqrt(2f / (fi + fo)), g);
    }

    /// <summary>
    /// PyTorch's default for Linear and Conv layers: weight kaiming_uniform(a=√5), i.e. U(±1/√fan_in), and bias
    /// U(±1/√fan_in).
    /// </summary>
    public static void DefaultLayer(Tensor weight, Tensor? bias, Generator? g = null)
    {
        KaimingUniform(weight, MathF.Sqrt(5f), g: g);
        if (bias is null) return;
        var (fi, _) = Fans(weight);
        float bound = fi > 0 ? 1f / MathF.Sqrt(fi) : 0f;
        Uniform(bias, -bound, bound, g);
    }
}
