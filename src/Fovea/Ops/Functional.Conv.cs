using Fovea.Autograd;

namespace Fovea;

/// <summary>The layers' maths as functions of tensors (torch.nn.functional's vocabulary), each recorded for autograd.</summary>
public static partial class Functional
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as in every CNN library) of x [N, C, H, W] with w [O, C/groups, KH, KW].
    /// Padding here is zeros; other modes pre-pad with <see cref="Pad"/>. With <paramref name="relu"/> the result is
    /// max(·, 0), as a ReLU after the layer gives: fused into the convolution's kernel when no gradient is recorded.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, (int h, int w)? stride = null,
        (int top, int left, int bottom, int right)? padding = null, (int h, int w)? dilation = null, int groups = 1,
        ConvAlgorithm algorithm = ConvAlgorithm.Auto, string layer = "conv2d", bool relu = false)
    {
        if (x.Rank != 4) throw new ArgumentException($"{layer}: expected input [N, C, H, W], got {x.ShapeString}");
        if (weight.Rank != 4) throw new ArgumentException($"{layer}: expected weight [O, C/groups, KH, KW], got {weight.ShapeString}");
        var (sh, sw) = stride ?? (1, 1);
        var (pt, pl, pb, pr) = padding ?? (0, 0, 0, 0);
        var (dh, dw) = dilation ?? (1, 1);
        var ws = weight.Shape;
        if (x.Size(1) != ws[1] * groups)
            throw new ArgumentException(
                $"{layer}: expected input with {ws[1] * groups} channels [N, {ws[1] * groups}, H, W], got {x.ShapeString}");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != ws[0]))
            throw new ArgumentException($"{layer}: expected bias [{ws[0]}], got {bias.ShapeString}");
        var g = new ConvGeometry
        {
            Batch = x.Size(0),
            InChannels = x.Size(1),
            InHeight = x.Size(2),
            InWidth = x.Size(3),
            OutChannels = ws[0],
            KernelHeight = ws[2],
            KernelWidth = ws[3],
            StrideH = sh,
            StrideW = sw,
            PadTop = pt,
            PadLeft = pl,
            PadBottom = pb,
            PadRight = pr,
            DilationH = dh,
            DilationW = dw,
            Groups = groups,
        };
        try { g.Validate(); }
        catch (ArgumentException e) { throw new ArgumentException($"{layer}: {e.Message}", e); }

        var xd = x.Dense();
        var wd = weight.Dense();
        var bd = bias?.Dense();
        var backend = x.Backend;
        // Every conv kernel writes its outputs whole (IBackend), so they start uninitialised: clearing a large y, dx
        // or dw first was a pass over memory on one thread.
        var y = Tensor.Empty(g.OutputShape, x.Device);
        // A ReLU on a recorded output stays an op of its own, with its own backward; unrecorded, the kernel applies it.
        bool records = Recorder.Needs([xd, wd, bd]);
        backend.Conv2d(g, algorithm, xd.Storage, wd.Storage, bd?.Storage, y.Storage, relu && !records, inference: !records);
        if (relu) return records ? Record(y, g, xd, wd, bd, layer).Relu() : y;
        return Record(y, g, xd, wd, bd, layer);
    }

    private static Tensor Record(Tensor y, ConvGeometry g, Tensor xd, Tensor wd, Tensor? bd, string layer)
    {
        var backend = xd.Backend;
        return Recorder.Record(y, layer, bd is null ? [xd, wd] : [xd, wd, bd], dy =>
        {
            var dyd = dy.Dense();
            Tensor? dx = null, dwt = null, db = null;
            if (Recorder.WantsGrad(wd) || bd is not null && Recorder.WantsGrad(bd))
            {
                // A parameter's gradient goes straight into its Grad when that is free to overwrite; null is then
                // returned for it, as there is nothing left for the engine to add.
                var wInto = LeafGrad.Overwrite(wd);
                var bInto = bd is null ? null : LeafGrad.Overwrite(bd);
                dwt = wInto ?? Tensor.Empty(g.WeightShape, xd.Device);
                db = bd is null ? null : bInto ?? Tensor.Empty([g.OutChannels], xd.Device);
                backend.Conv2dBackwardFilter(g, xd.Storage, dyd.Storage, dwt.Storage, db?.Storage);
                if (wInto is not null) dwt = null;
                if (bInto is not null) db = null;
            }
            // The filter gradient was the last read of x, so the data gradient, which does not read x, may take x's
            // buffer when nothing else will read it (Engine.TryAdopt). A leaf's gradient goes into its Grad as the
            // weights' do.
            if (Recorder.WantsGrad(xd))
            {
                var xInto = LeafGrad.Overwrite(xd);
                dx = xInto ?? (Engine.TryAdopt(xd) ? new Tensor(xd.Storage, g.InputShape) : Tensor.Empty(g.InputShape, xd.Device));
                backend.Conv2dBackwardData(g, dyd.Storage, wd.Storage, dx.Storage);
                if (xInto is not null) dx = null;
            }
            return bd is null ? [dx, dwt] : [dx, dwt, db];
        }, readsOutput: false);
    }

    /// <summary>1-D convolution of x [N, C, L] with w [O, C/groups, K]: the 2-D machinery at height 1.</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, (int left, int right)? padding = null,
        int dilation = 1, int groups = 1, ConvAlgorithm algorithm = ConvAlgorithm.Auto, string layer = "conv1d")
    {
        if (x.Rank != 3) throw new ArgumentException($"{layer}: expected input [N, C, L], got {x.ShapeString}");
        if (weight.Rank != 3) throw new ArgumentException($"{layer}: expected weight [O, C/groups, K], got {weight.ShapeString}");
        var (pl, pr) = padding ?? (0, 0);
        var y = Conv2d(x.Unsqueeze(2), weight.Unsqueeze(2), bias, (1, stride), (0, pl, 0, pr), (1, dilation), groups, algorithm, layer);
        return y.Squeeze(2);
    }

    /// <summary>
    /// The pre-pad step shared by convolutions and pools: pads the last two dims (or the last one of a 3-D
    /// tensor) by (left, right, top, bottom) with zeros/constant, reflection, replication or wrap-around.
    /// </summary>
    public static Tensor Pad(Tensor x, int left, int right, int top, int bottom, PadMode mode = PadMode.Zeros, float value = 0f)
    {
        if (x.Rank == 3) return Pad(x.Unsqueeze(2), left, right, 0, 0, mode, value).Squeeze(2);
        if (x.Rank != 4) throw new ArgumentException($"pad: expected [N, C, H, W] or [N, C, L], got {x.ShapeString}");
        var g = new PadGeometry(x.Size(0) * x.Size(1), x.Size(2), x.Size(3), top, bottom, left, right, mode, value);
        g.Validate();
        var xd = x.Dense();
        var y = Tensor.Zeros([x.Size(0), x.Size(1), g.OutHeight, g.OutWidth], x.Device);
        x.Backend.Pad2d(g, xd.Storage, y.Storage);
        var inShape = x.Shape;
        return Recorder.Record(y, $"pad_{mode}", [xd], dy =>
        {
            var dx = Tensor.Zeros(inShape, dy.Device);
            xd.Backend.Pad2dBackward(g, dy.Dense().Storage, dx.Storage);
            return [dx];
        });
    }
}
