using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>
/// 2x2 max pooling at stride 2 over planes it tiles exactly (even height and width, the common case: LeNet-5's and
/// VGG's pools). Rows 2i and 2i + 1 of a plane lie next to each other and planes follow one another, so the batch
/// is one run of N·C·OH row pairs, each giving one output row: the loops run over that run instead of plane by
/// plane. The backward writes every cell of dx once from its window's winner (no clear, no scatter). Both keep
/// <see cref="Take"/>'s rule, tap by tap in row-major order, and the tests hold them to the reference loop.
/// </summary>
internal static partial class Pool2d
{
    /// <summary>Whether the row-pair loops take this pool: 2x2 stride 2 tiling the planes, rows of 4 outputs or more, AVX2.</summary>
    internal static bool TilesInRowPairs(in PoolGeometry g) =>
        UseWide && FastMaxKernel(g) == 2 && g.InHeight == 2 * g.OutHeight && g.InWidth == 2 * g.OutWidth && g.OutWidth >= 4;

    private readonly struct ForwardRowPairs(float[] x, float[] y, int ow) : CpuParallel.IChunks
    {
        public unsafe void Run(int first, int end)
        {
            fixed (float* xp = x, yp = y)
                for (long q = first; q < end; q++)
                {
                    float* top = xp + q * 4 * ow, yq = yp + q * ow;
                    // A row whose length is not a multiple of the lanes ends with a group overlapping the one before
                    // it: those outputs are written twice, the same.
                    if (ow >= 8)
                        for (int j = 0, next = 0; j < ow; j = next)
                        {
                            j = Math.Min(next, ow - 8);
                            next = j + 8;
                            Window8(top + 2 * j, 2 * ow).Max.Store(yq + j);
                        }
                    else
                    {
                        Window4(top, 2 * ow).Max.Store(yq);
                        Window4(top + 2 * (ow - 4), 2 * ow).Max.Store(yq + ow - 4);
                    }
                }
        }
    }

    private readonly struct BackwardRowPairs(float[] x, float[] dy, float[] dx, int ow) : CpuParallel.IChunks
    {
        public unsafe void Run(int first, int end)
        {
            fixed (float* xp = x, dyp = dy, dxp = dx)
                for (long q = first; q < end; q++)
                {
                    long top = q * 4 * ow;
                    // dx may be x's own buffer: the last group, which may overlap the one before it, is found first
                    // and stored last, so that no group reads a cell another has already written.
                    if (ow >= 8)
                    {
                        int last = ow - 8;
                        var tail = Route8(xp + top + 2 * last, dyp + q * ow + last, 2 * ow);
                        for (int j = 0; j < last; j += 8)
                            Store8(Route8(xp + top + 2 * j, dyp + q * ow + j, 2 * ow), dxp + top + 2 * j, 2 * ow);
                        Store8(tail, dxp + top + 2 * last, 2 * ow);
                    }
                    else
                    {
                        int last = ow - 4;
                        var tail = Route4(xp + top + 2 * last, dyp + q * ow + last, 2 * ow);
                        Store4(Route4(xp + top, dyp + q * ow, 2 * ow), dxp + top, 2 * ow);
                        Store4(tail, dxp + top + 2 * last, 2 * ow);
                    }
                }
        }
    }

    /// <summary>
    /// Eight windows whose top-left cells are columns 0, 2, .., 14 of the row at t (the next row w floats on): their
    /// maxima, and for taps 1-3 (top right, bottom left, bottom right) the lanes where that tap took over.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Max, Vector256<float> T1, Vector256<float> T2, Vector256<float> T3) Window8(float* t, int w)
    {
        var (e0, o0) = EvenOdd(t);
        var (e1, o1) = EvenOdd(t + w);
        var max = e0;
        var t1 = TakeLanes(o0, ref max);
        var t2 = TakeLanes(e1, ref max);
        var t3 = TakeLanes(o1, ref max);
        return (max, t1, t2, t3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float> Max, Vector128<float> T1, Vector128<float> T2, Vector128<float> T3) Window4(float* t, int w)
    {
        var (e0, o0) = EvenOdd4(t);
        var (e1, o1) = EvenOdd4(t + w);
        var max = e0;
        var t1 = TakeLanes(o0, ref max);
        var t2 = TakeLanes(e1, ref max);
        var t3 = TakeLanes(o1, ref max);
        return (max, t1, t2, t3);
    }

    /// <summary><see cref="Take"/>'s rule in every lane, returning the lanes where v took over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TakeLanes(Vector256<float> v, ref Vector256<float> max)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        max = Vector256.ConditionalSelect(take, v, max);
        return take;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> TakeLanes(Vector128<float> v, ref Vector128<float> max)
    {
        var take = Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v);
        max = Vector128.ConditionalSelect(take, v, max);
        return take;
    }

    /// <summary>
    /// dx of eight windows (see <see cref="Window8"/>): each window's dy at the tap that won it, the last to take over,
    /// and 0 at its other three; as the two rows' 16 cells each, in column order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Route8(float* t, float* dy, int w)
    {
        var (_, t1, t2, t3) = Window8(t, w);
        var g = Avx.LoadVector256(dy);
        var later3 = t3;
        var later2 = t2 | later3;
        var later1 = t1 | later2;
        var (a0, a1) = Interleave(Vector256.AndNot(g, later1), g & t1 & ~later2);
        var (b0, b1) = Interleave(g & t2 & ~later3, g & t3);
        return (a0, a1, b0, b1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float>, Vector128<float>, Vector128<float>, Vector128<float>) Route4(float* t, float* dy, int w)
    {
        var (_, t1, t2, t3) = Window4(t, w);
        var g = Sse.LoadVector128(dy);
        var later3 = t3;
        var later2 = t2 | later3;
        var later1 = t1 | later2;
        var a0 = Vector128.AndNot(g, later1);
        var a1 = g & t1 & ~later2;
        var b0 = g & t2 & ~later3;
        var b1 = g & t3;
        return (Sse.UnpackLow(a0, a1), Sse.UnpackHigh(a0, a1), Sse.UnpackLow(b0, b1), Sse.UnpackHigh(b0, b1));
    }

    /// <summary>Columns 0..15 of a row from its even (<paramref name="even"/>) and odd columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) Interleave(Vector256<float> even, Vector256<float> odd)
    {
        // unpck works within 128-bit halves: (e0 o0 e1 o1 | e4 o4 e5 o5) and (e2 o2 e3 o3 | e6 o6 e7 o7).
        var low = Avx.UnpackLow(even, odd);
        var high = Avx.UnpackHigh(even, odd);
        return (Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store8((Vector256<float> A0, Vector256<float> A1, Vector256<float> B0, Vector256<float> B1) v, float* dx, int w)
    {
        v.A0.Store(dx);
        v.A1.Store(dx + 8);
        v.B0.Store(dx + w);
        v.B1.Store(dx + w + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store4((Vector128<float> A0, Vector128<float> A1, Vector128<float> B0, Vector128<float> B1) v, float* dx, int w)
    {
        v.A0.Store(dx);
        v.A1.Store(dx + 4);
        v.B0.Store(dx + w);
        v.B1.Store(dx + w + 4);
    }
}
