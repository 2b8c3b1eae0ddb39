namespace Fovea.NN;

// The non-linearities: element-wise, parameter-free, each a thin module over its Tensor op.

/// <summary>max(0, x).</summary>
public sealed class ReLU(bool inplace = false) : Module
{
    /// <summary>Overwrite the input with the output (<see cref="Tensor.ReluInPlace"/>), as torchvision's AlexNet and VGG do.</summary>
    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input) => Inplace ? input.ReluInPlace() : input.Relu();
    protected override string ExtraRepr => Inplace ? "inplace=True" : "";
}

/// <summary>x for x &gt; 0, else slope·x.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope { get; } = negativeSlope;
    public override Tensor Forward(Tensor input) => input.LeakyRelu(NegativeSlope);
    protected override string ExtraRepr => $"negative_slope={NegativeSlope}";
}

/// <summary>1 / (1 + e^−x).</summary>
public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor input) => input.Tanh();
}

/// <summary>Softmax along Dim (1 by default: the class dimension).</summary>
public sealed class Softmax(int dim = 1) : Module
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => Functional.Softmax(input, Dim);
    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>Log-softmax along Dim.</summary>
public sealed class LogSoftmax(int dim = 1) : Module
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => Functional.LogSoftmax(input, Dim);
    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>Passes its input through (a placeholder layer).</summary>
public sealed class Identity : Module
{
    public override Tensor Forward(Tensor input) => input;
}
