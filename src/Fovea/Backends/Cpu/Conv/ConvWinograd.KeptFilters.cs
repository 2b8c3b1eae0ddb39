using System.Runtime.CompilerServices;

namespace Fovea.Backends.Cpu;

// Inference's transformed filters, kept from one forward to the next.
internal static partial class ConvWinograd
{
    /// <summary>
    /// U packed in <paramref name="Layout"/>, or in 32-filter slivers (<paramref name="Slivers"/>), planes
    /// <paramref name="UPlane"/> apart, and a copy of the weights it was made from (null for frozen weights).
    /// </summary>
    private sealed record KeptFilters(float[]? Weights, Gemm.PackedALayout Layout, bool Slivers, int UPlane, float[] U);

    /// <summary>
    /// The transformed filters of forwards that record no gradient (<see cref="Forward"/> with keepFilters), by weights
    /// array. Transforming writes four times the weights' floats, packed for the GEMM: on AlexNet's 13x13 layers at
    /// batch 8 it took 1.5-1.8 ms of each layer's 4.5-6 ms. An entry lives as long as its array (a weak key).
    /// </summary>
    private static readonly ConditionalWeakTable<float[], KeptFilters> Kept = new();

    /// <summary>
    /// U for the weights <paramref name="w"/> as the plan lays it out: the one kept from an earlier call while w still
    /// equals the weights it was made from, else transformed now and kept. Unless <paramref name="frozen"/>, the
    /// weights are compared whole on every call (<see cref="Same"/>): an optimiser, a loaded checkpoint or a user may
    /// change them in place, and nothing else tells when they did. Frozen weights (Storage.Frozen) keep no copy:
    /// freezing and unfreezing drop what was kept (<see cref="ForgetKept"/>).
    /// </summary>
    private static float[] KeptTransform(in ConvGeometry g, in Plan p, float[] w, bool frozen)
    {
        var weights = w.AsSpan(0, checked((int)g.WeightCount));
        if (Kept.TryGetValue(w, out var kept) && kept.Layout == p.PackedU && kept.Slivers == p.KeptSlivers && kept.UPlane == p.UPlane
            && (kept.Weights is null ? frozen : Same(w, kept.Weights)))
            return kept.U;
        // Zeroed: slivers past the last filter are read whole.
        var u = new float[checked(Points * p.UPlane)];
        float[]? parts = Parts(g) > 1 ? SplitFilters(g, w) : null;
        TransformEveryFilter(g, p, parts ?? w, u);
        if (parts is not null) ScratchPool.Return(parts);
        Kept.AddOrUpdate(w, new KeptFilters(frozen ? null : weights.ToArray(), p.PackedU, p.KeptSlivers, p.UPlane, u));
        return u;
    }

    /// <summary>Drops the filters kept for the weights array <paramref name="w"/>, if any.</summary>
    internal static void ForgetKept(float[] w) => Kept.Remove(w);

    /// <summary>Floats of the weights each thread compares at a time.</summary>
    private const int ComparePiece = 1 << 14;

    /// <summary>
    /// Whether w starts with copy: a read of twice the weights' bytes, memory-bound, so the threads split it. A
    /// 512 → 512 3x3 layer (2.4 M floats): 0.79-0.92 ms on one thread, 0.41-0.52 on two.
    /// </summary>
    private static unsafe bool Same(float[] w, float[] copy)
    {
        int differ = 0;
        CpuParallel.ForChunks(DivUp(copy.Length, ComparePiece), ComparePiece, new Comparison(w, copy, &differ));
        return differ == 0;
    }

    /// <summary>Pieces [start, end) of w against the copy; any difference sets *differ.</summary>
    private readonly unsafe struct Comparison(float[] w, float[] copy, int* differ) : CpuParallel.IChunks
    {
        public void Run(int start, int end)
        {
            int a = start * ComparePiece, b = Math.Min(copy.Length, end * ComparePiece);
            if (!w.AsSpan(a, b - a).SequenceEqual(copy.AsSpan(a, b - a))) Volatile.Write(ref *differ, 1);
        }
    }

    /// <summary>Bytes kept for the weights array <paramref name="w"/>: its transformed filters and the copy they are checked against; 0 if none.</summary>
    internal static long KeptBytes(float[] w) => Kept.TryGetValue(w, out var kept) ? sizeof(float) * ((long)kept.U.Length + (kept.Weights?.Length ?? 0)) : 0;

    /// <summary>
    /// Floats an inference forward keeps for this geometry's weights (<see cref="KeptBytes"/>), <paramref name="frozen"/>
    /// or not: 0 where it keeps none.
    /// </summary>
    internal static long KeptFloats(in ConvGeometry g, bool frozen = false)
    {
        var p = MakePlan(g, keepFilters: true);
        return Keeps(p) ? (long)Points * p.UPlane + (frozen ? 0 : g.WeightCount) : 0;
    }
}
