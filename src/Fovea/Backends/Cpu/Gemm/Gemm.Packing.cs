using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // Packing copies a block of op(A) or op(B) into the exact order the micro-kernel reads it, so that the
    // kernel streams both operands with unit stride whatever the transposes and leading dimensions were.
    // Slivers past the matrix edge are zero-padded: the kernel then always computes full tiles and only the
    // write-back has to know about edges.

    // op(A)[i0.., p0..] (mc×kc) → ceil(mc/mr) slivers, each kc steps of mr consecutive rows.
    private static unsafe void PackA(bool transA, float* a, nint lda, int i0, int p0, int mc, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            if (transA)
            {
                // A is stored k×m: the mr values of one k step are contiguous.
                float* src = a + (nint)p0 * lda + i0 + ir;
                if (rows == mr)
                    for (int p = 0; p < kc; p++, src += lda, dst += mr)
                        Unsafe.CopyBlockUnaligned(dst, src, (uint)(mr * sizeof(float)));
                else
                    for (int p = 0; p < kc; p++, src += lda, dst += mr)
                    {
                        int i = 0;
                        for (; i < rows; i++) dst[i] = src[i];
                        for (; i < mr; i++) dst[i] = 0f;
                    }
            }
            else
            {
                // A is stored m×k, so packing is a transpose. With 8-row slivers it goes 8×8 blocks at a time
                // in registers: when n is small (512×49×4608, a late conv layer) packing A is a large share of
                // the time, and the scalar scatter made it about a fifth. Otherwise (and for the ragged end of
                // k) read each row contiguously and scatter it with stride mr; the mr·kc-float sliver sits in
                // L1 while it is written.
                int p8 = rows == 8 && mr == 8 && Avx.IsSupported ? kc & ~7 : 0;
                float* src0 = a + (nint)(i0 + ir) * lda + p0;
                for (int p = 0; p < p8; p += 8)
                    Transpose8x8(src0 + p, lda, dst + (nint)p * 8, 8);
                for (int i = 0; i < rows; i++)
                {
                    float* src = src0 + i * lda;
                    float* d = dst + (nint)p8 * mr + i;
                    for (int p = p8; p < kc; p++, d += mr) *d = src[p];
                }
                for (int i = rows; i < mr; i++)
                {
                    float* d = dst + i;
                    for (int p = 0; p < kc; p++, d += mr) *d = 0f;
                }
                dst += (nint)mr * kc;
            }
        }
    }

    // op(B)[p0.., j0..] (kc×nc) → ceil(nc/nr) slivers, each kc steps of nr consecutive columns; the last
    // sliver is cfg.SliverWidth wide (nr/2 when the config has a half-width kernel and the rest fits it).
    private static unsafe void PackB(KernelConfig cfg, bool transB, float* b, nint ldb, int p0, int j0, int kc, int nc, float* dst)
    {
        int nr = cfg.Nr;
        if (!transB)
        {
            // B is stored k×n: walk it row by row so the source streams sequentially (the hardware
            // prefetcher follows one long run per row, not kc short runs a whole row apart), handing each
            // nr-wide piece of the row to its sliver.
            int full = nc / nr, rest = nc - full * nr, tailWidth = cfg.SliverWidth(full * nr, nc);
            nint sliver = (nint)nr * kc;
            float* tail = dst + full * sliver;
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (nint)(p0 + p) * ldb + j0;
                float* d = dst + (nint)p * nr;
                for (int s = 0; s < full; s++, src += nr, d += sliver)
                    Unsafe.CopyBlockUnaligned(d, src, (uint)(nr * sizeof(float)));
                if (rest > 0)
                {
                    d = tail + (nint)p * tailWidth;
                    Unsafe.CopyBlockUnaligned(d, src, (uint)(rest * sizeof(float)));
                    new Span<float>(d + rest, tailWidth - rest).Clear();
                }
            }
            return;
        }
        // B is stored n×k, so packing is a transpose. Where AVX is present it goes 8×8 blocks at a time in
        // registers (the scalar loop costs about as much as a tenth of the product when m is ~128, as in a
        // convolution's filter gradient); the ragged remainders and the zero padding are scalar.
        int kc8 = Avx.IsSupported ? kc & ~7 : 0;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr), width = cfg.SliverWidth(jr, nc);
            int cols8 = Avx.IsSupported ? cols & ~7 : 0;
            float* src = b + (nint)(j0 + jr) * ldb + p0;
            for (int p = 0; p < kc8; p += 8)
                for (int j = 0; j < cols8; j += 8)
                    Transpose8x8(src + j * ldb + p, ldb, dst + (nint)p * width + j, width);
            for (int j = 0; j < width; j++)
            {
                float* d = dst + j;
                float* s = src + j * ldb;
                int p = j < cols8 ? kc8 : 0;
                if (j < cols)
                    for (; p < kc; p++) d[(nint)p * width] = s[p];
                else
                    for (; p < kc; p++) d[(nint)p * width] = 0f;
            }
            dst += (nint)width * kc;
        }
    }

    // dst[q·ldd + r] = src[r·lds + q] for an 8×8 block: unpack pairs of rows, shuffle pairs of pairs, then
    // swap 128-bit halves. 24 shuffles replace 64 scalar loads and stores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds);
        var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds);
        var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds);
        var r7 = Avx.LoadVector256(src + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }
}
