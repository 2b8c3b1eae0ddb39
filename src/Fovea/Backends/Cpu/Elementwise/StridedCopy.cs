namespace Fovea.Backends.Cpu;

/// <summary>Moves elements between a strided view of any rank and a dense buffer, a whole innermost row at a time.</summary>
internal static class StridedCopy
{
    // source is read at offset + Σ index[d]·strides[d], in row-major order of shape.
    public static void Run<T>(T[] source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<T> destination)
    {
        if (shape.Length == 0) { destination[0] = source[offset]; return; }
        int inner = shape[^1], step = strides[^1];
        var rows = new StridedRows(shape, strides, offset, stackalloc int[shape.Length]);
        for (int o = 0; rows.MoveNext(); o += inner)
        {
            if (step == 1) source.AsSpan(rows.Offset, inner).CopyTo(destination.Slice(o, inner));
            else for (int i = 0; i < inner; i++) destination[o + i] = source[rows.Offset + i * step];
        }
    }

    // destination is written at offset + Σ index[d]·strides[d], in row-major order of the dense source.
    public static void Scatter(float[] source, ReadOnlySpan<int> shape, float[] destination, int offset, ReadOnlySpan<int> strides)
    {
        if (shape.Length == 0) { destination[offset] = source[0]; return; }
        int inner = shape[^1], step = strides[^1];
        var rows = new StridedRows(shape, strides, offset, stackalloc int[shape.Length]);
        for (int o = 0; rows.MoveNext(); o += inner)
        {
            if (step == 1) source.AsSpan(o, inner).CopyTo(destination.AsSpan(rows.Offset, inner));
            else for (int i = 0; i < inner; i++) destination[rows.Offset + i * step] = source[o + i];
        }
    }
}

/// <summary>
/// Walks the start offsets of the innermost rows of a strided view, in row-major order. The caller lends the index
/// (at least rank − 1 ints, stackalloc'd), so that a walk allocates nothing.
/// </summary>
internal ref struct StridedRows
{
    private readonly ReadOnlySpan<int> _shape;
    private readonly ReadOnlySpan<int> _strides;
    private readonly Span<int> _index;
    private readonly int _base;
    private int _remaining;
    private bool _started;

    public StridedRows(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, int offset, Span<int> index)
    {
        _shape = shape;
        _strides = strides;
        _index = index[..Math.Max(0, shape.Length - 1)];
        _index.Clear();
        _base = offset;
        _remaining = 1;
        for (int d = 0; d < shape.Length - 1; d++) _remaining *= shape[d];
        if (shape.Length > 0 && shape[^1] == 0) _remaining = 0;
        Offset = offset;
    }

    /// <summary>Start of the current row in the strided storage.</summary>
    public int Offset { get; private set; }

    public bool MoveNext()
    {
        if (_remaining == 0) return false;
        _remaining--;
        if (!_started) { _started = true; return true; }
        for (int d = _index.Length - 1; d >= 0; d--)
        {
            if (++_index[d] < _shape[d]) break;
            _index[d] = 0;
        }
        int o = _base;
        for (int d = 0; d < _index.Length; d++) o += _index[d] * _strides[d];
        Offset = o;
        return true;
    }
}
