namespace Fovea.Inspection;

/// <summary>The optimiser a <see cref="MemoryFootprint"/> budgets for: what state it keeps per parameter.</summary>
public enum FootprintOptimizer
{
    /// <summary>Plain SGD (momentum 0): no state.</summary>
    Sgd,

    /// <summary>SGD with momentum: one momentum buffer per parameter.</summary>
    SgdMomentum,

    /// <summary>Adam: the first and second moments, two buffers per parameter.</summary>
    Adam,
}
