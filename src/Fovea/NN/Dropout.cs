namespace Fovea.NN;

/// <summary>Zeroes each activation with probability P in training and scales the rest by 1/(1 − P); identity in evaluation.</summary>
public sealed class Dropout : Module
{
    private readonly Generator? _generator;

    public Dropout(float p = 0.5f, Generator? generator = null)
    {
        if (p < 0 || p >= 1) throw new ArgumentException($"Dropout probability must be in [0, 1), got {p}");
        P = p;
        _generator = generator;
    }

    public float P { get; }

    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training, _generator);

    protected override string ExtraRepr => $"p={P}";
}
