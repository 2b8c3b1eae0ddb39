using System.Text.Json;
using Fovea.NN;

namespace Fovea.Tests.Parity;

/// <summary>Builds the Fovea module a fixture names, from PyTorch's constructor keyword arguments.</summary>
internal static class ModuleFactory
{
    public static Module Create(string module, JsonElement kw) => module switch
    {
        // A padding given by name ("same", "valid") takes the constructors that take one.
        "Conv1d" when Named(kw, "padding") is { } name => new Conv1d(I(kw, "in_channels"), I(kw, "out_channels"), I(kw, "kernel_size"), name,
            I(kw, "stride", 1), I(kw, "dilation", 1), I(kw, "groups", 1), B(kw, "bias", true), Mode(kw)),
        "Conv1d" => new Conv1d(I(kw, "in_channels"), I(kw, "out_channels"), I(kw, "kernel_size"), I(kw, "stride", 1), I(kw, "padding", 0),
            I(kw, "dilation", 1), I(kw, "groups", 1), B(kw, "bias", true), Mode(kw)),
        "Conv2d" when Named(kw, "padding") is { } name => new Conv2d(I(kw, "in_channels"), I(kw, "out_channels"), S(kw, "kernel_size"), name,
            S(kw, "stride", 1), S(kw, "dilation", 1), I(kw, "groups", 1), B(kw, "bias", true), Mode(kw)),
        "Conv2d" => new Conv2d(I(kw, "in_channels"), I(kw, "out_channels"), S(kw, "kernel_size"), S(kw, "stride", 1), S(kw, "padding", 0),
            S(kw, "dilation", 1), I(kw, "groups", 1), B(kw, "bias", true), Mode(kw)),
        "Linear" => new Linear(I(kw, "in_features"), I(kw, "out_features"), B(kw, "bias", true)),
        "Flatten" => new Flatten(I(kw, "start_dim", 1), I(kw, "end_dim", -1)),
        "ReLU" => new ReLU(),
        "LeakyReLU" => new LeakyReLU(F(kw, "negative_slope", 0.01f)),
        "Sigmoid" => new Sigmoid(),
        "Tanh" => new Tanh(),
        "Softmax" => new Softmax(I(kw, "dim")),
        "LogSoftmax" => new LogSoftmax(I(kw, "dim")),
        "Dropout" => new Dropout(F(kw, "p", 0.5f)),
        "MaxPool2d" => new MaxPool2d(S(kw, "kernel_size"), Has(kw, "stride") ? S(kw, "stride") : null, S(kw, "padding", 0), S(kw, "dilation", 1),
            B(kw, "ceil_mode", false)),
        "AvgPool2d" => new AvgPool2d(S(kw, "kernel_size"), Has(kw, "stride") ? S(kw, "stride") : null, S(kw, "padding", 0), B(kw, "ceil_mode", false),
            B(kw, "count_include_pad", true)),
        "SumPool2d" => new SumPool2d(S(kw, "kernel_size"), Has(kw, "stride") ? S(kw, "stride") : null),
        "AdaptiveAvgPool2d" => new AdaptiveAvgPool2d(S(kw, "output_size")),
        "LocalResponseNorm" => new LocalResponseNorm(I(kw, "size"), F(kw, "alpha", 1e-4f), F(kw, "beta", 0.75f), F(kw, "k", 1f)),
        "LocalContrastNorm" => new LocalContrastNorm(I(kw, "kernel_size", 9), F(kw, "sigma", 2f)),
        "BatchNorm1d" => new BatchNorm1d(I(kw, "num_features"), F(kw, "eps", 1e-5f), F(kw, "momentum", 0.1f), B(kw, "affine", true)),
        "BatchNorm2d" => new BatchNorm2d(I(kw, "num_features"), F(kw, "eps", 1e-5f), F(kw, "momentum", 0.1f), B(kw, "affine", true)),
        "LeNet5" => new Sequential(new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10)),
        _ => throw new ArgumentException($"fixture names unknown module '{module}'"),
    };

    private static bool Has(JsonElement kw, string name) => kw.TryGetProperty(name, out _);

    private static string? Named(JsonElement kw, string name) =>
        kw.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int I(JsonElement kw, string name, int? dflt = null) =>
        kw.TryGetProperty(name, out var v) ? (v.ValueKind == JsonValueKind.Array ? v[0].GetInt32() : v.GetInt32())
        : dflt ?? throw new ArgumentException($"fixture kwargs lack '{name}'");

    private static float F(JsonElement kw, string name, float dflt) => kw.TryGetProperty(name, out var v) ? v.GetSingle() : dflt;

    private static bool B(JsonElement kw, string name, bool dflt) => kw.TryGetProperty(name, out var v) ? v.GetBoolean() : dflt;

    private static Size2 S(JsonElement kw, string name, int? dflt = null)
    {
        if (!kw.TryGetProperty(name, out var v)) return dflt ?? throw new ArgumentException($"fixture kwargs lack '{name}'");
        return v.ValueKind == JsonValueKind.Array ? new Size2(v[0].GetInt32(), v[1].GetInt32()) : v.GetInt32();
    }

    private static PadMode Mode(JsonElement kw) => kw.TryGetProperty("padding_mode", out var v)
        ? v.GetString() switch
        {
            "zeros" => PadMode.Zeros,
            "reflect" => PadMode.Reflect,
            "replicate" => PadMode.Replicate,
            "circular" => PadMode.Circular,
            var m => throw new ArgumentException($"unknown padding_mode {m}"),
        }
        : PadMode.Zeros;
}
