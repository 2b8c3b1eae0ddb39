namespace Fovea.NN;

/// <summary>y = x·Wᵀ + b over the last dimension; W is [out, in] as in PyTorch.</summary>
public sealed class Linear : Module
{
    public int InFeatures { get; }
    public int OutFeatures { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear needs positive sizes, got in_features={inFeatures} out_features={outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var w = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures))!;
        var b = RegisterParameter("bias", bias ? Tensor.Zeros(outFeatures) : null);
        Init.DefaultLayer(w, b, generator);
    }

    public Parameter Weight => GetParameter("weight")!;
    public Parameter? Bias => GetParameter("bias");

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 1 || input.Size(-1) != InFeatures)
            throw new ArgumentException($"Linear({InFeatures}, {OutFeatures}): expected input [..., {InFeatures}], got {input.ShapeString}");
        return Functional.Linear(input, Weight, Bias);
    }

    protected override string ExtraRepr => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is not null).ToString().ToLowerInvariant()}";
}
