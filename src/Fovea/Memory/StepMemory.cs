namespace Fovea;

/// <summary>
/// Recycles the buffers of one training or evaluation step. Inside <see cref="Begin"/>, every buffer a backend
/// allocates on this thread is lent from a per-thread pool and given back when the scope ends, so a steady
/// training loop reuses the same arrays instead of making the garbage collector sweep megabytes per step.
/// Anything that must outlive the step (gradients, optimiser state, running statistics) is allocated under
/// <see cref="Persistent"/>; tensors made inside the scope must not be used after it ends.
/// </summary>
public static class StepMemory
{
    [ThreadStatic] private static StepPool<float>? _floats;
    [ThreadStatic] private static StepPool<long>? _longs;
    [ThreadStatic] private static int _depth;
    [ThreadStatic] private static int _suspended;
    [ThreadStatic] private static long _lentBytes, _peakLentBytes;
    [ThreadStatic] private static List<Action>? _atStepEnd;
    [ThreadStatic] private static List<Storage>? _transientOrder;
    [ThreadStatic] private static HashSet<Storage>? _transient;

    /// <summary>True while this thread is in a step scope and not in a persistent section.</summary>
    public static bool IsActive => _depth > 0 && _suspended == 0;

    /// <summary>Starts a step: buffers allocated on this thread until the scope ends are recycled then.</summary>
    public static Scope Begin()
    {
        _floats ??= new StepPool<float>();
        _longs ??= new StepPool<long>();
        _atStepEnd ??= [];
        _transientOrder ??= [];
        _transient ??= new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        _depth++;
        return new Scope(_floats.Mark(), _longs.Mark(), _atStepEnd.Count, _transientOrder.Count);
    }

    /// <summary>
    /// Starts a step whose buffers are never given back to this thread's pool: a <see cref="CapturedStep"/> writes
    /// them again on every replay. The step borrows from a pool of its own, which starts with the buffers this
    /// thread's pool holds idle (left by eager steps before the capture), so they are not held twice.
    /// </summary>
    internal static CaptureScope BeginOwn()
    {
        var saved = (_floats, _longs);
        _floats = new StepPool<float>(saved._floats);
        _longs = new StepPool<long>(saved._longs);
        return new CaptureScope(saved._floats, saved._longs, Begin());
    }

    /// <summary>Allocations in this section outlive the step (e.g. a parameter's first gradient).</summary>
    public static PersistentSection Persistent() => new();

    /// <summary>
    /// A buffer of exactly <paramref name="length"/> elements from the pool, when a step is active: zeroed, or with
    /// <paramref name="clear"/> false holding whatever its last user left.
    /// </summary>
    internal static float[]? RentFloats(int length, bool clear = true)
    {
        if (!IsActive) return null;
        Lent(sizeof(float) * (long)length);
        return _floats!.Rent(length, clear);
    }

    /// <summary>An int64 buffer (masks, labels) from the pool, when a step is active; zeroed unless <paramref name="clear"/> is false.</summary>
    internal static long[]? RentLongs(int length, bool clear = true)
    {
        if (!IsActive) return null;
        Lent(sizeof(long) * (long)length);
        return _longs!.Rent(length, clear);
    }

    /// <summary>Where this thread's step pool stands now: buffers lent after it can be given back early.</summary>
    internal static int FloatMark => _floats?.Mark() ?? 0;

    /// <summary>
    /// Gives <paramref name="buffer"/> back to the pool before its step ends, when it was lent after
    /// <paramref name="sinceMark"/> (<see cref="FloatMark"/>) in a step scope of this thread; otherwise does nothing.
    /// The caller promises that nothing reads the buffer again: the autograd engine does this for gradients that
    /// every consumer has read.
    /// </summary>
    internal static void ReturnEarly(float[] buffer, int sinceMark)
    {
        if (_depth == 0 || _floats is null) return;
        _lentBytes -= _floats.ReturnEarly(buffer, sinceMark);
    }

    /// <summary>
    /// Marks <paramref name="t"/>'s buffer as one that only the recorded graph reads: an output that a container
    /// (<see cref="NN.Sequential"/>) passed from one layer to the next and did not give its caller. The autograd engine
    /// then gives it back to the pool as soon as the last backward that reads it has run, instead of at the step's end,
    /// as PyTorch frees a saved activation when its last reader is done. Only a float buffer this thread's pool lent in
    /// an open step scope qualifies; anything else is left alone.
    /// </summary>
    internal static void MarkTransient(Tensor t)
    {
        if (!IsActive || t.Storage is not CpuStorage { DType: DType.Float32 } s) return;
        if (_transient!.Add(s)) _transientOrder!.Add(s);
    }

    /// <summary>Takes back <see cref="MarkTransient"/>: the buffer turned out to be the caller's.</summary>
    internal static void Unmark(Storage s) => _transient?.Remove(s);

    /// <summary>Whether <paramref name="s"/> was marked by <see cref="MarkTransient"/> in a scope still open.</summary>
    internal static bool IsTransient(Storage s) => _transient is { Count: > 0 } set && set.Contains(s);

    /// <summary>Gives a transient buffer back to the pool; the caller promises that nothing reads it again.</summary>
    internal static void ReleaseTransient(Storage s)
    {
        if (!IsTransient(s)) return;
        _transient!.Remove(s);
        float[] buffer = ((CpuStorage)s).Floats;
        long bytes = _floats!.ReturnEarly(buffer, 0);
        _lentBytes -= bytes;
    }

    /// <summary>
    /// Gives an int64 buffer this thread's pool lent in an open step scope (a ReLU's mask) back before the step ends;
    /// the caller promises that nothing reads it again. Anything else is left alone.
    /// </summary>
    internal static void ReturnLongs(Storage s)
    {
        if (_depth == 0 || _longs is null || s is not CpuStorage { DType: DType.Int64 } cpu) return;
        _lentBytes -= _longs.ReturnEarly(cpu.Longs, 0);
    }

    /// <summary>
    /// Tests set this to fill every float buffer the pool takes back with NaN, so that a read after release shows, and
    /// so does a kernel that leaves part of an uninitialised output (<see cref="Tensor.Empty"/>) unwritten.
    /// </summary>
    internal static bool PoisonReleased { get; set; }

    /// <summary>Whether this thread's pool lent <paramref name="buffer"/> after <paramref name="sinceMark"/> and has it out still.</summary>
    internal static bool LentSince(float[] buffer, int sinceMark) => _depth > 0 && _floats is not null && _floats.IsLentSince(buffer, sinceMark);

    private static void Lent(long bytes)
    {
        _lentBytes += bytes;
        _peakLentBytes = Math.Max(_peakLentBytes, _lentBytes);
    }

    /// <summary>
    /// Runs <paramref name="release"/> when the current step scope on this thread ends, for a backend that pools its
    /// own buffers (the GPU backend gives device memory back this way). Returns false, registering nothing, when no
    /// step is active or a persistent section is open: the caller's buffer then outlives the step.
    /// </summary>
    public static bool AtStepEnd(Action release)
    {
        if (!IsActive) return false;
        _atStepEnd!.Add(release);
        return true;
    }

    /// <summary>Bytes of pooled buffers this thread holds (lent or idle): the pool's high-water mark.</summary>
    public static long PooledBytes => (_floats?.TotalBytes ?? 0) + (_longs?.TotalBytes ?? 0);

    /// <summary>
    /// The most bytes this thread's steps had lent at once since <see cref="ResetPeakLentBytes"/>: what one step
    /// needs, whatever buffers earlier steps of other shapes left idle in the pool (those count in <see cref="PooledBytes"/>).
    /// </summary>
    public static long PeakLentBytes => _peakLentBytes;

    /// <summary>Starts a new <see cref="PeakLentBytes"/> from what is lent now.</summary>
    public static void ResetPeakLentBytes() => _peakLentBytes = _lentBytes;

    public readonly struct Scope : IDisposable
    {
        private readonly int _floatMark, _longMark, _atStepEndMark, _transientMark;

        internal Scope(int floatMark, int longMark, int atStepEndMark, int transientMark)
        {
            _floatMark = floatMark;
            _longMark = longMark;
            _atStepEndMark = atStepEndMark;
            _transientMark = transientMark;
        }

        public void Dispose()
        {
            _depth--;
            _lentBytes -= _floats!.ReturnSince(_floatMark) + _longs!.ReturnSince(_longMark);
            var pending = _atStepEnd!;
            for (int i = pending.Count - 1; i >= _atStepEndMark; i--) pending[i]();
            pending.RemoveRange(_atStepEndMark, pending.Count - _atStepEndMark);
            var marked = _transientOrder!;
            for (int i = _transientMark; i < marked.Count; i++) _transient!.Remove(marked[i]);
            marked.RemoveRange(_transientMark, marked.Count - _transientMark);
        }
    }

    internal readonly struct CaptureScope(StepPool<float>? floats, StepPool<long>? longs, Scope scope) : IDisposable
    {
        public void Dispose()
        {
            scope.Dispose();
            (_floats, _longs) = (floats, longs);
        }
    }

    public readonly struct PersistentSection : IDisposable
    {
        public PersistentSection() => _suspended++;
        public void Dispose() => _suspended--;
    }
}

/// <summary>Buffers by exact length: a step allocates the same sizes every time, so exact buckets always hit.</summary>
internal sealed class StepPool<T> where T : unmanaged
{
    private Dictionary<int, Stack<T[]>> _idle = [];
    private readonly List<T[]?> _lent = [];

    public StepPool() { }

    /// <summary>A pool that takes over <paramref name="from"/>'s idle buffers.</summary>
    public StepPool(StepPool<T>? from)
    {
        if (from is null) return;
        (_idle, from._idle) = (from._idle, []);
        long idleBytes = 0;
        foreach (var stack in _idle.Values)
            foreach (var a in stack) idleBytes += Bytes(a);
        from.TotalBytes -= idleBytes;
        TotalBytes = idleBytes;
    }

    public long TotalBytes { get; private set; }

    public int Mark() => _lent.Count;

    public T[] Rent(int length, bool clear = true)
    {
        T[] a;
        if (_idle.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            a = stack.Pop();
            if (clear) Array.Clear(a);
        }
        else
        {
            a = new T[length];
            TotalBytes += Bytes(a);
        }
        _lent.Add(a);
        return a;
    }

    /// <summary>Takes back every buffer lent since <paramref name="mark"/>; returns their bytes.</summary>
    public long ReturnSince(int mark)
    {
        long bytes = 0;
        for (int i = _lent.Count - 1; i >= mark; i--)
            if (_lent[i] is { } a) bytes += Idle(a);
        _lent.RemoveRange(mark, _lent.Count - mark);
        return bytes;
    }

    public bool IsLentSince(T[] buffer, int mark)
    {
        for (int i = _lent.Count - 1; i >= mark; i--)
            if (ReferenceEquals(_lent[i], buffer)) return true;
        return false;
    }

    /// <summary>
    /// Takes back one buffer lent since <paramref name="mark"/>, leaving an empty slot so that the marks of open
    /// scopes still count the same positions; returns its bytes, or 0 when it was not lent since the mark.
    /// </summary>
    public long ReturnEarly(T[] buffer, int mark)
    {
        // The buffers given back early are the step's latest, so the search from the end is short.
        for (int i = _lent.Count - 1; i >= mark; i--)
            if (ReferenceEquals(_lent[i], buffer))
            {
                _lent[i] = null;
                return Idle(buffer);
            }
        return 0;
    }

    private long Idle(T[] a)
    {
        if (StepMemory.PoisonReleased && a is float[] floats) Array.Fill(floats, float.NaN);
        if (!_idle.TryGetValue(a.Length, out var stack)) _idle[a.Length] = stack = new Stack<T[]>();
        stack.Push(a);
        return Bytes(a);
    }

    private static long Bytes(T[] a) => (long)System.Runtime.CompilerServices.Unsafe.SizeOf<T>() * a.Length;
}
