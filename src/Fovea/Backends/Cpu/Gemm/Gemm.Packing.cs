using System.Runtime.CompilerServices;

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
                for (int p = 0; p < kc; p++, src += lda, dst += mr)
                {
                    int i = 0;
                    for (; i < rows; i++) dst[i] = src[i];
                    for (; i < mr; i++) dst[i] = 0f;
                }
            }
            else
            {
                // A is stored m×k: read each row contiguously and scatter it with stride mr (the sliver is
                // mr·kc floats, small enough to sit in L1 while it is written).
                for (int i = 0; i < rows; i++)
                {
                    float* src = a + (nint)(i0 + ir + i) * lda + p0;
                    float* d = dst + i;
                    for (int p = 0; p < kc; p++, d += mr) *d = src[p];
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

    // op(B)[p0.., j0..] (kc×nc) → ceil(nc/nr) slivers, each kc steps of nr consecutive columns.
    private static unsafe void PackB(bool transB, float* b, nint ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            if (!transB)
            {
                // B is stored k×n: each k step of the sliver is one contiguous run of a row.
                float* src = b + (nint)p0 * ldb + j0 + jr;
                nint bytes = (nint)cols * sizeof(float);
                for (int p = 0; p < kc; p++, src += ldb, dst += nr)
                {
                    Unsafe.CopyBlockUnaligned(dst, src, (uint)bytes);
                    for (int j = cols; j < nr; j++) dst[j] = 0f;
                }
            }
            else
            {
                // B is stored n×k: walk k in short runs so each of the nr source rows is read contiguously
                // while the nr×run destination block stays in L1.
                const int Run = 16;
                for (int pb = 0; pb < kc; pb += Run)
                {
                    int run = Math.Min(Run, kc - pb);
                    float* d0 = dst + (nint)pb * nr;
                    for (int j = 0; j < cols; j++)
                    {
                        float* src = b + (nint)(j0 + jr + j) * ldb + p0 + pb;
                        float* d = d0 + j;
                        for (int p = 0; p < run; p++, d += nr) *d = src[p];
                    }
                    for (int j = cols; j < nr; j++)
                    {
                        float* d = d0 + j;
                        for (int p = 0; p < run; p++, d += nr) *d = 0f;
                    }
                }
                dst += (nint)nr * kc;
            }
        }
    }
}
