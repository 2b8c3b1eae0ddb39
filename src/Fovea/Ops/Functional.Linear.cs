using Fovea.Autograd;

namespace Fovea;

public static partial class Functional
{
    /// <summary>
    /// y = x·Wᵀ + b over the last dimension of x [..., in], with W [out, in] and b [out] (torch.nn.functional.linear).
    /// One op rather than a matrix product, a transpose and an add: the bias goes into the product's output in place,
    /// and the backward writes dW and db straight into the parameters' gradients.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"linear: expected weight [out, in], got {weight.ShapeString}");
        int outF = weight.Size(0), inF = weight.Size(1);
        if (x.Rank < 1 || x.Size(-1) != inF)
            throw new ArgumentException($"linear: expected input [..., {inF}] for weight {weight.ShapeString}, got {x.ShapeString}");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != outF))
            throw new ArgumentException($"linear: expected bias [{outF}], got {bias.ShapeString}");
        x.RequireFloat("linear");
        weight.RequireFloat("linear");
        var xd = x.Dense();
        var wd = weight.Dense();
        var bd = bias?.Dense();
        var backend = xd.Backend;
        int rows = xd.NumEl / inF;
        var outShape = x.Shape;
        outShape[^1] = outF;
        // The products overwrite y, dx and dW (beta 0 clears C even when the sum is empty), so they start uninitialised.
        var y = new Tensor(backend.AllocateUninitialized(DType.Float32, rows * outF), outShape);
        if (rows > 0)
        {
            // y = x · Wᵀ: W is stored [out, in], which is Wᵀ read transposed.
            backend.Gemm(false, true, 1, rows, outF, inF, xd.Storage, 0, inF, 0, wd.Storage, 0, inF, 0, 0f, y.Storage, 0, outF, 0);
            if (bd is not null)
                backend.Binary(BinaryOp.Add, y.Storage, 0, [outF, 1], bd.Storage, 0, [0, 1], [rows, outF], y.Storage);
        }
        var inputs = bd is null ? new[] { xd, wd } : [xd, wd, bd];
        return Recorder.Record(y, "linear", inputs, dy =>
        {
            var g = dy.Dense();
            Tensor? dx = null, dw = null, db = null;
            // A first layer's input (the images) wants no gradient: that product is skipped.
            if (Recorder.WantsGrad(xd))
            {
                dx = new Tensor(backend.AllocateUninitialized(DType.Float32, rows * inF), xd.Shape);
                backend.Gemm(false, false, 1, rows, inF, outF, g.Storage, 0, outF, 0, wd.Storage, 0, inF, 0, 0f, dx.Storage, 0, inF, 0);
            }
            if (Recorder.WantsGrad(wd))
            {
                var into = LeafGrad.Overwrite(wd);
                var target = into ?? new Tensor(backend.AllocateUninitialized(DType.Float32, outF * inF), wd.Shape);
                // dW = dyᵀ · x, summed over every row of the batch.
                backend.Gemm(true, false, 1, outF, inF, rows, g.Storage, 0, outF, 0, xd.Storage, 0, inF, 0, 0f, target.Storage, 0, inF, 0);
                dw = into is null ? target : null;
            }
            if (bd is not null && Recorder.WantsGrad(bd))
            {
                var into = LeafGrad.Overwrite(bd);
                var target = into ?? new Tensor(backend.Allocate(DType.Float32, outF), bd.Shape);
                backend.Reduce(ReduceOp.Sum, g.Storage, 1, rows, outF, target.Storage);
                db = into is null ? target : null;
            }
            return bd is null ? [dx, dw] : [dx, dw, db];
        }, readsOutput: false);
    }
}
