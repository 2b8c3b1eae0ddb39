using Fovea.Inspection;
using Fovea.Onnx.Proto;

namespace Fovea.Onnx;

/// <summary>
/// The lecture's per-layer arithmetic for an imported graph: one forward pass on zeros is traced, and each node
/// that computes a tensor gives a row: output shape, the parameters it reads, multiply-adds (Conv, Gemm and MatMul,
/// as <see cref="ModelSummary"/> counts them) and, for Conv and pooling nodes, receptive field and jump.
/// </summary>
public static class OnnxSummary
{
    public static ModelSummary Compute(OnnxModel model, int[] inputShape, int batch = 1)
    {
        var input = Tensor.Zeros([batch, .. inputShape]);
        var weights = model.Weights;
        var rows = new List<LayerSummary>();
        // Receptive field and jump per axis, carried through element-wise nodes and reset by dense ones.
        Size2? field = new Size2(1, 1), jump = new Size2(1, 1);
        bool wasTraining = model.Training;
        model.Eval();
        using (GradMode.NoGrad())
        {
            model.TraceForward(input, (node, args, outs) =>
            {
                if (outs.Length == 0 || outs[0].Tensor is not { } y) return;
                long parameters = 0;
                foreach (var name in node.Input)
                    if (name.Length > 0 && weights.TryGetValue(name, out var w)) parameters += w.NumEl;
                long macs = 0;
                Size2? rf = null, j = null;
                switch (node.OpType)
                {
                    case "Conv" when args.Length > 1 && args[1].Tensor is { } cw:
                        macs = (long)y.NumEl * (cw.NumEl / cw.Size(0));
                        (field, jump) = Grow(node, field, jump, cw.Size(2), cw.Rank > 3 ? cw.Size(3) : 1);
                        (rf, j) = (field, jump);
                        break;
                    case "MaxPool" or "AveragePool":
                        var k = Ints(node, "kernel_shape");
                        (field, jump) = Grow(node, field, jump, k[0], k.Length > 1 ? k[1] : 1);
                        (rf, j) = (field, jump);
                        break;
                    case "Gemm" or "MatMul":
                        var a = args[0].Tensor;
                        if (a is not null) macs = (long)y.NumEl * (node.OpType == "Gemm" && Int(node, "transA") == 1 ? a.Size(0) : a.Size(-1));
                        (field, jump) = (null, null);
                        break;
                    case "Flatten" or "Reshape" or "GlobalAveragePool" or "GlobalMaxPool":
                        (field, jump) = (null, null);
                        break;
                }
                rows.Add(new LayerSummary(node.Name.Length > 0 ? node.Name : $"{node.OpType}_{rows.Count}", node.OpType, y.Shape, parameters, macs, rf, j));
            });
        }
        model.Train(wasTraining);
        return ModelSummary.FromLayers([batch, .. inputShape], rows);
    }

    private static (Size2?, Size2?) Grow(NodeProto node, Size2? field, Size2? jump, int kh, int kw)
    {
        if (field is not { } r || jump is not { } j) return (null, null);
        var s = Ints(node, "strides");
        var d = Ints(node, "dilations");
        int sh = s.Length > 0 ? s[0] : 1, sw = s.Length > 1 ? s[1] : sh;
        int dh = d.Length > 0 ? d[0] : 1, dw = d.Length > 1 ? d[1] : dh;
        int eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
        return (new Size2(r.H + (eh - 1) * j.H, r.W + (ew - 1) * j.W), new Size2(j.H * sh, j.W * sw));
    }

    private static int[] Ints(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.Select(v => (int)v).ToArray() ?? [];

    private static long Int(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? 0;
}
