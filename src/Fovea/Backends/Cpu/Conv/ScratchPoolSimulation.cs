namespace Fovea.Backends.Cpu;

/// <summary>
/// <see cref="ScratchPool"/> played on lengths instead of arrays, by the same best-fit and drop-the-smallest rules:
/// how many bytes the pool holds (lent or idle) over a sequence of convolution passes. The pool keeps buffers across
/// passes and hands a small request the smallest idle buffer that fits, so what it holds is not the largest single
/// pass but depends on the order and sizes of them all.
/// </summary>
internal sealed class ScratchPoolSimulation
{
    private readonly List<int> _idle = [];
    private long _idleFloats;

    /// <summary>The most floats the pool held at once, from an empty pool.</summary>
    public long PeakHeldFloats { get; private set; }

    /// <summary>One pass: every request rented (all held at once, as when the chunks run side by side), then all returned.</summary>
    public void Pass(IReadOnlyList<int> requests)
    {
        var lent = new List<int>(requests.Count);
        long lentFloats = 0;
        foreach (int length in requests)
        {
            int best = ScratchPool.BestFit(_idle, x => x, length);
            int buffer = best >= 0 ? _idle[best] : Math.Max(length, 1);
            if (best >= 0)
            {
                _idle.RemoveAt(best);
                _idleFloats -= buffer;
            }
            lent.Add(buffer);
            lentFloats += buffer;
            PeakHeldFloats = Math.Max(PeakHeldFloats, lentFloats + _idleFloats);
        }
        foreach (int buffer in lent)
        {
            _idle.Add(buffer);
            _idleFloats += buffer;
            if (_idle.Count > ScratchPool.MaxKept)
            {
                int smallest = ScratchPool.Smallest(_idle, x => x);
                _idleFloats -= _idle[smallest];
                _idle.RemoveAt(smallest);
            }
        }
    }
}
