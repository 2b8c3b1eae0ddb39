using Fovea.Autograd;

namespace Fovea;

public static partial class Functional
{
    private static Tensor Pool(PoolKind kind, Tensor x, (int h, int w) kernel, (int h, int w)? stride, (int h, int w) padding,
        bool ceilMode, bool countIncludePad, (int h, int w) dilation, string layer)
    {
        if (x.Rank != 4) throw new ArgumentException($"{layer}: expected input [N, C, H, W], got {x.ShapeString}");
        var (sh, sw) = stride ?? kernel;
        var g = new PoolGeometry
        {
            Batch = x.Size(0),
            Channels = x.Size(1),
            InHeight = x.Size(2),
            InWidth = x.Size(3),
            KernelHeight = kernel.h,
            KernelWidth = kernel.w,
            StrideH = sh,
            StrideW = sw,
            PadH = padding.h,
            PadW = padding.w,
            DilationH = dilation.h,
            DilationW = dilation.w,
            CeilMode = ceilMode,
            CountIncludePad = countIncludePad,
        };
        try { g.Validate(); }
        catch (ArgumentException e) { throw new ArgumentException($"{layer}: {e.Message}", e); }
        var xd = x.Dense();
        var backend = x.Backend;
        // The pooling kernels write y and dx whole (dx's planes are cleared by the kernel, which may be reading x there).
        var y = Tensor.Empty(g.OutputShape, x.Device);
        backend.Pool2d(g, kind, xd.Storage, y.Storage);
        return Recorder.Record(y, layer, [xd], dy =>
        {
            // The kernel reads each plane of x before it writes that plane of dx, so dx may take x's buffer.
            var dx = Engine.TryAdopt(xd) ? new Tensor(xd.Storage, g.InputShape) : Tensor.Empty(g.InputShape, dy.Device);
            backend.Pool2dBackward(g, kind, xd.Storage, dy.Dense().Storage, dx.Storage);
            return [dx];
        }, readsOutput: false);
    }

    /// <summary>Max pooling; overlapping when stride &lt; kernel (AlexNet's 3/2).</summary>
    public static Tensor MaxPool2d(Tensor x, (int h, int w) kernel, (int h, int w)? stride = null, (int h, int w) padding = default,
        bool ceilMode = false, (int h, int w)? dilation = null) =>
        Pool(PoolKind.Max, x, kernel, stride, padding, ceilMode, true, dilation ?? (1, 1), "max_pool2d");

    /// <summary>Average pooling with PyTorch's count_include_pad and ceil_mode rules.</summary>
    public static Tensor AvgPool2d(Tensor x, (int h, int w) kernel, (int h, int w)? stride = null, (int h, int w) padding = default,
        bool ceilMode = false, bool countIncludePad = true) =>
        Pool(PoolKind.Average, x, kernel, stride, padding, ceilMode, countIncludePad, (1, 1), "avg_pool2d");

    /// <summary>Sum pooling: the window's sum (average pooling without the division).</summary>
    public static Tensor SumPool2d(Tensor x, (int h, int w) kernel, (int h, int w)? stride = null, (int h, int w) padding = default,
        bool ceilMode = false) =>
        Pool(PoolKind.Sum, x, kernel, stride, padding, ceilMode, true, (1, 1), "sum_pool2d");

    /// <summary>Averages over windows chosen so the output is exactly <paramref name="output"/> in size.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, (int h, int w) output)
    {
        if (x.Rank != 4) throw new ArgumentException($"adaptive_avg_pool2d: expected input [N, C, H, W], got {x.ShapeString}");
        if (output.h <= 0 || output.w <= 0) throw new ArgumentException($"adaptive_avg_pool2d: output size must be positive, got {output}");
        int planes = x.Size(0) * x.Size(1), inH = x.Size(2), inW = x.Size(3);
        var xd = x.Dense();
        var y = Tensor.Zeros([x.Size(0), x.Size(1), output.h, output.w], x.Device);
        x.Backend.AdaptiveAvgPool2d(planes, inH, inW, output.h, output.w, xd.Storage, y.Storage);
        var inShape = x.Shape;
        return Recorder.Record(y, "adaptive_avg_pool2d", [xd], dy =>
        {
            var dx = Tensor.Zeros(inShape, dy.Device);
            xd.Backend.AdaptiveAvgPool2dBackward(planes, inH, inW, output.h, output.w, dy.Dense().Storage, dx.Storage);
            return [dx];
        }, readsOutput: false);
    }
}
