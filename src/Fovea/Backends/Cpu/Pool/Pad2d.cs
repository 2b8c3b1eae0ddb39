using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Pads the last two dims of x [planes, H, W] into y [planes, H + top + bottom, W + left + right] as torch.nn.functional.pad
/// does (constant, reflect, replicate, circular). Each output row and column is mapped once to its source row and column
/// (−1 for a constant cell), so every mode is the same gather and its backward the same scatter-add.
/// </summary>
internal static class Pad2d
{
    // x [planes, H, W] → y [planes, OutH, OutW]
    public static void Forward(in PadGeometry g, float[] x, float[] y)
    {
        g.Validate();
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, left = g.Left;
        int[] rows = SourceMap(g.Mode, h, g.Top, oh), cols = SourceMap(g.Mode, w, left, ow);
        float value = g.Mode == PadMode.Zeros ? g.Value : 0f;
        CpuParallel.For(g.Planes, (long)oh * ow, p =>
        {
            var xp = x.AsSpan(p * h * w, h * w);
            var yp = y.AsSpan(p * oh * ow, oh * ow);
            for (int r = 0; r < oh; r++)
            {
                var yr = yp.Slice(r * ow, ow);
                int sr = rows[r];
                if (sr < 0) { yr.Fill(value); continue; }
                var xr = xp.Slice(sr * w, w);
                // The middle of every row is the source row itself; only the borders go through the map.
                xr.CopyTo(yr.Slice(left, w));
                for (int c = 0; c < left; c++) yr[c] = cols[c] < 0 ? value : xr[cols[c]];
                for (int c = left + w; c < ow; c++) yr[c] = cols[c] < 0 ? value : xr[cols[c]];
            }
        });
    }

    // dy [planes, OutH, OutW] → dx [planes, H, W]: each input cell sums the gradient of every output cell copied from it.
    public static void Backward(in PadGeometry g, float[] dy, float[] dx)
    {
        g.Validate();
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, left = g.Left;
        int[] rows = SourceMap(g.Mode, h, g.Top, oh), cols = SourceMap(g.Mode, w, left, ow);
        CpuParallel.For(g.Planes, (long)oh * ow, p =>
        {
            var dxp = dx.AsSpan(p * h * w, h * w);
            var dyp = dy.AsSpan(p * oh * ow, oh * ow);
            dxp.Clear();
            for (int r = 0; r < oh; r++)
            {
                int sr = rows[r];
                if (sr < 0) continue;
                var dyr = dyp.Slice(r * ow, ow);
                var dxr = dxp.Slice(sr * w, w);
                TensorPrimitives.Add(dxr, dyr.Slice(left, w), dxr);
                for (int c = 0; c < left; c++) if (cols[c] >= 0) dxr[cols[c]] += dyr[c];
                for (int c = left + w; c < ow; c++) if (cols[c] >= 0) dxr[cols[c]] += dyr[c];
            }
        });
    }

    /// <summary>For each of the <paramref name="outSize"/> padded positions, the input index it copies, or −1 for a constant cell.</summary>
    internal static int[] SourceMap(PadMode mode, int size, int before, int outSize)
    {
        var map = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int i = o - before;
            map[o] = i >= 0 && i < size ? i : mode switch
            {
                PadMode.Zeros => -1,
                // Mirror about the edge cell without repeating it (validation keeps the pad below the size).
                PadMode.Reflect => i < 0 ? -i : 2 * (size - 1) - i,
                PadMode.Replicate => Math.Clamp(i, 0, size - 1),
                PadMode.Circular => (i % size + size) % size,
                _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
            };
        }
        return map;
    }
}
