namespace Fovea.Backends.Cpu;

/// <summary>Moves elements between a strided view of any rank and a dense buffer.</summary>
internal static class StridedCopy
{
    // source is read at offset + Σ index[d]·strides[d]; the innermost dim is copied in a tight loop.
    public static void Run<T>(T[] source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<T> destination)
    {
        int rank = shape.Length;
        if (rank == 0) { destination[0] = source[offset]; return; }
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= shape[d];
        Span<int> idx = stackalloc int[rank];
        int o = 0;
        for (int r = 0; r < rows; r++)
        {
            int src = offset;
            for (int d = 0; d < rank - 1; d++) src += idx[d] * strides[d];
            if (innerStride == 1) source.AsSpan(src, inner).CopyTo(destination.Slice(o, inner));
            else for (int i = 0; i < inner; i++) destination[o + i] = source[src + i * innerStride];
            o += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }

    // destination is written at offset + Σ index[d]·strides[d], in the order of the dense source.
    public static void Scatter(float[] source, ReadOnlySpan<int> shape, float[] destination, int offset, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        if (rank == 0) { destination[offset] = source[0]; return; }
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= shape[d];
        Span<int> idx = stackalloc int[rank];
        int o = 0;
        for (int r = 0; r < rows; r++)
        {
            int dst = offset;
            for (int d = 0; d < rank - 1; d++) dst += idx[d] * strides[d];
            if (innerStride == 1) source.AsSpan(o, inner).CopyTo(destination.AsSpan(dst, inner));
            else for (int i = 0; i < inner; i++) destination[dst + i * innerStride] = source[o + i];
            o += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }
}
