namespace Fovea.Inspection;

/// <summary>
/// One leaf layer of a <see cref="ModelSummary"/>: what it makes and what it costs for the summarised input.
/// </summary>
/// <param name="Name">Dotted module name, as in the state dict (<c>features.0</c>).</param>
/// <param name="Type">PyTorch's class name (<see cref="NN.Module.TypeName"/>), e.g. <c>Conv2d</c>.</param>
/// <param name="OutputShape">The layer's output shape, batch dimension first.</param>
/// <param name="Params">Learnable parameters this layer owns (weights and biases; buffers are not counted).</param>
/// <param name="Macs">Multiply-adds of the whole batch; non-zero for convolutions and linear layers only.</param>
/// <param name="ReceptiveField">
/// For convolutions and pools: how many input pixels (height, width) one output unit sees; null for other layers.
/// </param>
/// <param name="Jump">
/// For convolutions and pools: the distance in input pixels (height, width) between two adjacent output units.
/// </param>
public sealed record LayerSummary(string Name, string Type, int[] OutputShape, long Params, long Macs, Size2? ReceptiveField, Size2? Jump)
{
    /// <summary>True for the layers that carry a receptive field (convolutions and pools).</summary>
    public bool IsSpatial => ReceptiveField is not null;
}

/// <summary>
/// What the first fully connected layer would cost if it were connected to the raw image instead of to the
/// convolutional features: the reason convolutions exist. A Linear from C·H·W inputs to the same number of
/// units has C·H·W·units weights plus units biases; compare it with <see cref="ActualParams"/>, everything the
/// network spends to reach those units (every layer up to and including the first Linear).
/// </summary>
/// <param name="LayerName">Dotted name of the first Linear layer.</param>
/// <param name="InputFeatures">C·H·W of one input image.</param>
/// <param name="Units">Output features of that Linear layer.</param>
/// <param name="DenseParams">InputFeatures·Units + Units: a dense layer straight from the pixels.</param>
/// <param name="ActualParams">Parameters of every layer from the input up to and including the first Linear.</param>
public sealed record DenseComparison(string LayerName, long InputFeatures, int Units, long DenseParams, long ActualParams)
{
    /// <summary>How many times more parameters the dense-from-pixels layer needs.</summary>
    public double Ratio => ActualParams == 0 ? double.PositiveInfinity : (double)DenseParams / ActualParams;
}
