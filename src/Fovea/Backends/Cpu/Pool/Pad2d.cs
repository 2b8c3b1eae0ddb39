using System.Buffers;
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
        var (rows, cols) = RentSourceMaps(g);
        CpuParallel.For(g.Planes, (long)g.OutHeight * g.OutWidth, new ForwardPlanes(g, x, y, rows, cols));
        ReturnSourceMaps(rows, cols);
    }

    private readonly struct ForwardPlanes(PadGeometry g, float[] x, float[] y, int[] rows, int[] cols) : CpuParallel.IItems
    {
        public void Run(int p)
        {
            int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, left = g.Left;
            float value = g.Mode == PadMode.Zeros ? g.Value : 0f;
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
        }
    }

    // dy [planes, OutH, OutW] → dx [planes, H, W]: each input cell sums the gradient of every output cell copied from it.
    public static void Backward(in PadGeometry g, float[] dy, float[] dx)
    {
        g.Validate();
        var (rows, cols) = RentSourceMaps(g);
        CpuParallel.For(g.Planes, (long)g.OutHeight * g.OutWidth, new BackwardPlanes(g, dy, dx, rows, cols));
        ReturnSourceMaps(rows, cols);
    }

    private readonly struct BackwardPlanes(PadGeometry g, float[] dy, float[] dx, int[] rows, int[] cols) : CpuParallel.IItems
    {
        public void Run(int p)
        {
            int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, left = g.Left;
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
        }
    }

    // The row and column maps, in pooled arrays (possibly longer than the maps): a training step pads every layer that
    // asks for it, forward and backward, and would otherwise make two arrays each time.
    private static (int[] Rows, int[] Cols) RentSourceMaps(in PadGeometry g)
    {
        int[] rows = ArrayPool<int>.Shared.Rent(g.OutHeight), cols = ArrayPool<int>.Shared.Rent(g.OutWidth);
        SourceMap(g.Mode, g.InHeight, g.Top, rows.AsSpan(0, g.OutHeight));
        SourceMap(g.Mode, g.InWidth, g.Left, cols.AsSpan(0, g.OutWidth));
        return (rows, cols);
    }

    private static void ReturnSourceMaps(int[] rows, int[] cols)
    {
        ArrayPool<int>.Shared.Return(rows);
        ArrayPool<int>.Shared.Return(cols);
    }

    /// <summary>For each padded position, the input index it copies, or −1 for a constant cell.</summary>
    internal static void SourceMap(PadMode mode, int size, int before, Span<int> map)
    {
        for (int o = 0; o < map.Length; o++)
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
    }
}
