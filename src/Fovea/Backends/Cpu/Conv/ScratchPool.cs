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
    // Idle buffers, each with the thread that gave it back.
    private static readonly List<(float[] Buffer, int Thread)> Free = [];

    /// <summary>
    /// Idle buffers kept; beyond this the smallest is dropped. As many as the most one pass holds at once, so that
    /// the next pass of the same kind finds its buffers: three a thread (the Winograd filter gradient's V, Z and S),
    /// or two a thread and two shared (a Winograd data gradient's turned filters and V, and each thread's U and M).
    /// More only held memory: at 2 threads, 10 kept idle buffers left VGG-16's scratch at 63 MB instead of 46.
    /// </summary>
    internal static int MaxKept => Math.Max(3 * CpuParallel.Threads, 2 * CpuParallel.Threads + 2);

    /// <summary>The index of the smallest idle buffer of at least <paramref name="length"/> floats, or -1: the buffer a rent gets.</summary>
    internal static int BestFit<T>(List<T> idle, Func<T, int> size, int length)
    {
        int best = -1;
        for (int i = 0; i < idle.Count; i++)
            if (size(idle[i]) >= length && (best < 0 || size(idle[i]) < size(idle[best]))) best = i;
        return best;
    }

    /// <summary>The index of the smallest idle buffer: the one dropped when more than <see cref="MaxKept"/> are idle.</summary>
    internal static int Smallest<T>(List<T> idle, Func<T, int> size)
    {
        int smallest = 0;
        for (int i = 1; i < idle.Count; i++)
            if (size(idle[i]) < size(idle[smallest])) smallest = i;
        return smallest;
    }

    // Bytes lent out now, and their high-water mark since the last reset: what the kernels need at once, which
    // a memory estimate (Inspection/MemoryFootprint) is checked against. Guarded by Free's lock.
    private static long _lentBytes, _peakLentBytes, _idleBytes, _peakHeldBytes;

    /// <summary>The most bytes of scratch in existence (lent or kept idle) since <see cref="ResetPeak"/>.</summary>
    public static long PeakHeldBytes
    {
        get { lock (Free) return _peakHeldBytes; }
    }

    /// <summary>The most bytes of scratch lent at once since <see cref="ResetPeak"/>.</summary>
    public static long PeakLentBytes
    {
        get { lock (Free) return _peakLentBytes; }
    }

    /// <summary>Starts a new high-water mark from what is lent now.</summary>
    public static void ResetPeak()
    {
        lock (Free)
        {
            _peakLentBytes = _lentBytes;
            _peakHeldBytes = _lentBytes + _idleBytes;
        }
    }

    /// <summary>Drops the idle buffers, so the next calls allocate as in a fresh process (for measurements).</summary>
    public static void Clear()
    {
        lock (Free)
        {
            Free.Clear();
            _idleBytes = 0;
        }
    }

    private static void Lend(float[] a)
    {
        _lentBytes += sizeof(float) * (long)a.Length;
        _peakLentBytes = Math.Max(_peakLentBytes, _lentBytes);
        _peakHeldBytes = Math.Max(_peakHeldBytes, _lentBytes + _idleBytes);
    }

    /// <summary>A buffer of at least <paramref name="length"/> floats, not cleared.</summary>
    public static float[] Rent(int length)
    {
        lock (Free)
        {
            int best = BestFit(Free, e => e.Buffer.Length, length);
            if (best >= 0)
            {
                best = OwnOfSameLength(best);
                var a = Free[best].Buffer;
                Free.RemoveAt(best);
                _idleBytes -= sizeof(float) * (long)a.Length;
                Lend(a);
                return a;
            }
        }
        var fresh = new float[Math.Max(length, 1)];
        lock (Free) Lend(fresh);
        return fresh;
    }

    /// <summary>
    /// Of the idle buffers as long as Free[best], one this thread gave back, where there is one. Each of a Winograd
    /// block's V and M is rented and given back once a block; best fit alone handed them from thread to thread, whose
    /// caches then passed their lines across. Only the choice between equal lengths changes, so what the pool holds
    /// is what <see cref="ScratchPoolSimulation"/> predicts.
    /// </summary>
    private static int OwnOfSameLength(int best)
    {
        int thread = Environment.CurrentManagedThreadId, length = Free[best].Buffer.Length;
        for (int i = 0; i < Free.Count; i++)
            if (Free[i].Thread == thread && Free[i].Buffer.Length == length) return i;
        return best;
    }

    public static void Return(float[] buffer)
    {
        lock (Free)
        {
            _lentBytes -= sizeof(float) * (long)buffer.Length;
            _idleBytes += sizeof(float) * (long)buffer.Length;
            Free.Add((buffer, Environment.CurrentManagedThreadId));
            if (Free.Count > MaxKept)
            {
                int smallest = Smallest(Free, e => e.Buffer.Length);
                _idleBytes -= sizeof(float) * (long)Free[smallest].Buffer.Length;
                Free.RemoveAt(smallest);
            }
        }
    }

    /// <summary>
    /// At least <paramref name="count"/> slots for the buffers a pass's chunks fill, one each, to be combined in chunk
    /// order. From <see cref="System.Buffers.ArrayPool{T}.Shared"/>, rented and given back on the calling thread, whose
    /// own cache then serves the next pass, so that a warm pass allocates no array of slots.
    /// </summary>
    public static float[][] RentSlots(int count) => System.Buffers.ArrayPool<float[]>.Shared.Rent(count);

    /// <summary>Gives back <see cref="RentSlots"/>'s array, cleared so that it keeps no buffer alive.</summary>
    public static void ReturnSlots(float[][] slots) => System.Buffers.ArrayPool<float[]>.Shared.Return(slots, clearArray: true);
}
