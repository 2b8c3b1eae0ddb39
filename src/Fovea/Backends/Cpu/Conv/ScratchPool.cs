namespace Fovea.Backends.Cpu;

/// <summary>
/// The conv kernels' reusable work buffers (column matrices, partial filter gradients, spectra, Winograd
/// tiles). Unlike <see cref="System.Buffers.ArrayPool{T}.Shared"/>, whose per-thread caches miss when the next
/// call's chunk lands on another pool thread (and then allocate a fresh multi-megabyte array), any thread gets
/// back any returned buffer, so steady-state calls allocate nothing. Buffers come back dirty: callers overwrite
/// or clear what they use. At most a few are kept; the smallest are dropped first.
/// </summary>
internal static class ScratchPool
{
    private static readonly List<float[]> Free = [];

    private static int MaxKept => 2 * CpuParallel.Threads + 6;

    /// <summary>A buffer of at least <paramref name="length"/> floats, not cleared.</summary>
    public static float[] Rent(int length)
    {
        lock (Free)
        {
            int best = -1;
            for (int i = 0; i < Free.Count; i++)
                if (Free[i].Length >= length && (best < 0 || Free[i].Length < Free[best].Length)) best = i;
            if (best >= 0)
            {
                var a = Free[best];
                Free.RemoveAt(best);
                return a;
            }
        }
        return new float[Math.Max(length, 1)];
    }

    public static void Return(float[] buffer)
    {
        lock (Free)
        {
            Free.Add(buffer);
            if (Free.Count > MaxKept)
            {
                int smallest = 0;
                for (int i = 1; i < Free.Count; i++)
                    if (Free[i].Length < Free[smallest].Length) smallest = i;
                Free.RemoveAt(smallest);
            }
        }
    }
}
