using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Max pooling with no argmax asked for (inference, and the training forward, whose backward finds the winners
/// again) over unpadded, undilated windows that lie whole in the plane, at stride 1 or 2, with AVX-512. A window's
/// maximum is the maximum over its columns of the maxima down them, so each output row first takes the lane-wise
/// maximum of its KH input rows (16 columns a vector, the row's end masked) into a row buffer, then each output
/// vector takes KW taps from that buffer: at stride 2, tap t of outputs j..j+15 is the even lanes of the 32 columns
/// from 2j + t, one two-register permute. The pools of AlexNet (3x3 stride 2 on 55, 27 and 13 columns) have rows of
/// 6 to 27 outputs, which the 4- and 8-lane loops of <see cref="MaxStride2Wide"/> cover with overlaps and selects for
/// an argmax nobody reads: at batch 8 they took 0.28, 0.20 and 0.27 ms.
/// The maximum is <see cref="Vector512.Max"/>'s IEEE 754:2019 one, so a NaN anywhere in a window gives NaN, as
/// PyTorch's does. Ties between −0 and +0 may give the other zero than PyTorch's first-in-row-major rule.
/// </summary>
internal static partial class Pool2d
{
    /// <summary>Whether <see cref="ForwardSeparable"/> takes the pools it can. Not a constant, so that tests can hold the others to the reference too.</summary>
    internal static bool UseSeparable = Avx512F.IsSupported;

    // The row buffer lives on the stack: wider rows go to the other loops.
    private const int SeparableMaxWidth = 4096;

    /// <summary>
    /// Whether the separable loop applies: max, no argmax, stride 1 or 2, no padding or dilation, every window whole.
    /// 2x2 stride 2 pools keep <see cref="MaxStride2Wide"/> and the row pairs: on 27x27 planes at batch 256 the
    /// separable loop took 0.14 ms against their 0.09.
    /// </summary>
    internal static bool Separates(in PoolGeometry g) =>
        UseSeparable && !(UseWide && FastMaxKernel(g) == 2) && g.StrideH is 1 or 2 && g.StrideW is 1 or 2 && g.PadH == 0 && g.PadW == 0 && g.DilationH == 1 && g.DilationW == 1
        && (g.OutHeight - 1) * g.StrideH + g.KernelHeight <= g.InHeight && (g.OutWidth - 1) * g.StrideW + g.KernelWidth <= g.InWidth
        && g.InWidth <= SeparableMaxWidth && g.OutHeight > 0 && g.OutWidth > 0;

    private readonly struct ForwardSeparablePlanes(PoolGeometry g, float[] x, float[] y) : CpuParallel.IChunks
    {
        public unsafe void Run(int first, int end)
        {
            int w = g.InWidth;
            long inPlane = (long)g.InHeight * w, outPlane = (long)g.OutHeight * g.OutWidth;
            // Reads run up to 47 floats past the row's end (stride 2, the last group's permute pairs); those lanes
            // only feed outputs past the row, which are not stored.
            float* row = stackalloc float[w + 64];
            fixed (float* xp = x, yp = y)
                for (long p = first; p < end; p++)
                    ForwardSeparable(g, xp + p * inPlane, xp + x.LongLength, yp + p * outPlane, row);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardSeparable(in PoolGeometry g, float* x, float* xEnd, float* y, float* row)
    {
        int w = g.InWidth, kh = g.KernelHeight, kw = g.KernelWidth, oh = g.OutHeight, ow = g.OutWidth, sh = g.StrideH;
        bool stride2 = g.StrideW == 2;
        var lanes = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        int tail = w % 16;
        var tailMask = Vector512.LessThan(lanes, Vector512.Create((float)tail));
        for (int i = 0; i < oh; i++, y += ow)
        {
            float* top = x + (long)i * sh * w;
            int c = 0;
            for (; c + 16 <= w; c += 16)
            {
                var m = Vector512.Load(top + c);
                for (int r = 1; r < kh; r++) m = Vector512.Max(m, Vector512.Load(top + r * w + c));
                m.Store(row + c);
            }
            if (tail > 0)
            {
                // The last row of the last plane ends the array: the masked load reads nothing past it.
                var m = Load(top + c, tailMask, xEnd);
                for (int r = 1; r < kh; r++) m = Vector512.Max(m, Load(top + r * w + c, tailMask, xEnd));
                m.Store(row + c);
            }
            for (int j = 0; j < ow; j += 16)
            {
                Vector512<float> m;
                if (stride2)
                {
                    float* at = row + 2 * j;
                    m = Avx512F.PermuteVar16x32x2(Vector512.Load(at), evens, Vector512.Load(at + 16));
                    for (int t = 1; t < kw; t++)
                        m = Vector512.Max(m, Avx512F.PermuteVar16x32x2(Vector512.Load(at + t), evens, Vector512.Load(at + t + 16)));
                }
                else
                {
                    m = Vector512.Load(row + j);
                    for (int t = 1; t < kw; t++) m = Vector512.Max(m, Vector512.Load(row + j + t));
                }
                if (j + 16 <= ow) m.Store(y + j);
                else Avx512F.MaskStore(y + j, Vector512.LessThan(lanes, Vector512.Create((float)(ow - j))), m);
            }
        }
    }

    // A row's last, partial vector: masked only where a full load would pass the array's end (fault suppression
    // makes the masked load safe there); elsewhere the lanes past the row read the next row, harmlessly.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Load(float* at, Vector512<float> mask, float* end) =>
        at + 16 <= end ? Vector512.Load(at) : Avx512F.MaskLoad(at, mask, Vector512<float>.Zero);
}
