namespace Fovea.Tests.Tensors;

public class TensorViewTests
{
    [Fact]
    public void TransposeIsAViewAndContiguousCopiesInRowMajorOrder()
    {
        var x = Tensor.FromArray([1f, 2, 3, 4, 5, 6], [2, 3]);
        var t = x.T;
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal(new[] { 1f, 4, 2, 5, 3, 6 }, t.Contiguous().ToArray());
    }

    [Fact]
    public void SliceGradientScattersIntoZeros()
    {
        var x = Tensor.FromArray([1f, 2, 3, 4, 5, 6], [2, 3]);
        x.RequiresGrad = true;
        x.Slice(1, 1, 3).Sum().Backward();
        Assert.Equal(new[] { 0f, 1, 1, 0, 1, 1 }, x.Grad!.ToArray());
    }

    [Fact]
    public void BroadcastAddGradientSumsOverBroadcastDims()
    {
        var a = Tensor.FromArray([1f, 2, 3, 4, 5, 6], [2, 3]);
        var b = Tensor.FromArray([10f, 20, 30], [3]);
        a.RequiresGrad = b.RequiresGrad = true;
        var y = a * b;
        y.Sum().Backward();
        Assert.Equal(new[] { 10f, 40, 90, 40, 100, 180 }, y.ToArray());
        Assert.Equal(new[] { 5f, 7, 9 }, b.Grad!.ToArray());
        Assert.Equal(new[] { 10f, 20, 30, 10, 20, 30 }, a.Grad!.ToArray());
    }
}
