using System.Runtime.Intrinsics;

namespace Fovea.Backends.Cpu;

/// <summary>
/// ReLU that keeps, for its backward, one bit an element (y &gt; 0) instead of the output itself: the backward then
/// reads 1/32 of the bytes, and the output's buffer is free as soon as the layers after it are done with it, so the
/// backward can write a gradient over it (a VGG block's backward runs in its forward's buffers). Bit j of word w is
/// element 64·w + j; the last word's bits past the end are zero.
/// </summary>
internal static class ReluMaskKernels
{
    public const int Bits = 64;

    /// <summary>y = max(x, 0) as <see cref="UnaryKernels"/> computes it (NaN stays NaN), and the mask of y &gt; 0.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<long> mask)
    {
        UnaryKernels.Forward(UnaryOp.Relu, x, y, 0f);
        int w = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; (w + 1) * Bits <= y.Length; w++)
            {
                var v = y.Slice(w * Bits, Bits);
                ulong bits = 0;
                for (int q = 0; q < 4; q++)
                    bits |= (ulong)Vector512.GreaterThan(Vector512.Create(v.Slice(16 * q, 16)), Vector512<float>.Zero).ExtractMostSignificantBits() << (16 * q);
                mask[w] = (long)bits;
            }
        MaskReference(y[(w * Bits)..], mask[w..]);
    }

    /// <summary>The plain mask loop: the vector loop's tail, and the oracle its tests compare with.</summary>
    internal static void MaskReference(ReadOnlySpan<float> y, Span<long> mask)
    {
        for (int w = 0; w * Bits < y.Length; w++)
        {
            ulong bits = 0;
            for (int j = 0, i = w * Bits; j < Bits && i < y.Length; j++, i++)
                if (y[i] > 0) bits |= 1UL << j;
            mask[w] = (long)bits;
        }
    }

    // Lane j of a 16-float group tests bit j of the group's 16 bits.
    private static readonly Vector512<int> LaneBits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);

    /// <summary>dx = dy where the mask's bit is set, else 0 (NaN in dy passes where set); dx may be dy.</summary>
    public static void Backward(ReadOnlySpan<long> mask, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int w = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; (w + 1) * Bits <= dx.Length; w++)
            {
                ulong bits = (ulong)mask[w];
                for (int q = 0; q < 4; q++)
                {
                    var select = Vector512.Equals(Vector512.Create((int)(bits >> (16 * q)) & 0xFFFF) & LaneBits, LaneBits).AsSingle();
                    var g = Vector512.Create(dy.Slice(w * Bits + 16 * q, 16));
                    (g & select).CopyTo(dx.Slice(w * Bits + 16 * q, 16));
                }
            }
        BackwardReference(mask[w..], dy[(w * Bits)..], dx[(w * Bits)..]);
    }

    /// <summary>The plain loop: the vector loop's tail, and the oracle its tests compare with.</summary>
    internal static void BackwardReference(ReadOnlySpan<long> mask, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] = ((ulong)mask[i / Bits] >> (i % Bits) & 1) != 0 ? dy[i] : 0f;
    }

    /// <summary>Words of mask for <paramref name="n"/> elements.</summary>
    public static int Words(int n) => (n + Bits - 1) / Bits;
}
