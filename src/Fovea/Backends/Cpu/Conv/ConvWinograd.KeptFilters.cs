using System.Runtime.CompilerServices;

namespace Fovea.Backends.Cpu;

// Inference's transformed filters, kept from one forward to the next.
internal static partial class ConvWinograd
{
    /// <summary>U packed in <paramref name="Layout"/> (planes <paramref name="UPlane"/> apart), and a copy of the weights it was made from.</summary>
    private sealed record KeptFilters(float[] Weights, Gemm.PackedALayout Layout, int UPlane, float[] U);

    /// <summary>
    /// The transformed filters of forwards that record no gradient (<see cref="Forward"/> with keepFilters), by weights
    /// array. Transforming writes four times the weights' floats, packed for the GEMM: on AlexNet's 13x13 layers at
    /// batch 8 it took 1.5-1.8 ms of each layer's 4.5-6 ms. An entry lives as long as its array (a weak key).
    /// </summary>
    private static readonly ConditionalWeakTable<float[], KeptFilters> Kept = new();

    /// <summary>
    /// U for the weights <paramref name="w"/> as the plan packs it: the one kept from an earlier call while w still
    /// equals the weights it was made from, else transformed now and kept. The weights are compared whole on every
    /// call, a read of twice their bytes (AlexNet's four kept layers, 2.45 M floats, cold: 0.76-0.86 ms on one thread,
    /// against 1.5-1.8 ms for one 13x13 layer's transform): an optimiser, a loaded checkpoint or a user may change
    /// them in place, and nothing else tells when they did.
    /// </summary>
    private static float[] KeptTransform(in ConvGeometry g, in Plan p, float[] w)
    {
        var weights = w.AsSpan(0, checked((int)g.WeightCount));
        if (Kept.TryGetValue(w, out var kept) && kept.Layout == p.PackedU && kept.UPlane == p.UPlane && weights.SequenceEqual(kept.Weights))
            return kept.U;
        var u = GC.AllocateUninitializedArray<float>(Points * p.UPlane);
        float[]? parts = Parts(g) > 1 ? SplitFilters(g, w) : null;
        TransformEveryFilter(g, p, parts ?? w, u);
        if (parts is not null) ScratchPool.Return(parts);
        Kept.AddOrUpdate(w, new KeptFilters(weights.ToArray(), p.PackedU, p.UPlane, u));
        return u;
    }

    /// <summary>Bytes kept for the weights array <paramref name="w"/>: its transformed filters and the copy they are checked against; 0 if none.</summary>
    internal static long KeptBytes(float[] w) => Kept.TryGetValue(w, out var kept) ? sizeof(float) * ((long)kept.U.Length + kept.Weights.Length) : 0;

    /// <summary>Floats an inference forward keeps for this geometry's weights (<see cref="KeptBytes"/>): 0 unless it runs by blocks.</summary>
    internal static long KeptFloats(in ConvGeometry g)
    {
        var p = MakePlan(g, keepFilters: true);
        return Keeps(p) ? (long)Points * p.UPlane + g.WeightCount : 0;
    }
}
