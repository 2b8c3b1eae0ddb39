using Fovea.NN;

namespace Fovea.Tests.NN;

// Padding given by name, as PyTorch's padding='same' and 'valid'. The values are held to PyTorch by the layer fixtures
// (conv2d_same_*, conv1d_same_*, conv2d_valid_k3); these check the sizes, the summary and the refusals.
public class ConvPaddingByNameTests
{
    [Fact]
    public void SameKeepsTheSizeWithTheOddCellAfter()
    {
        var conv = new Conv2d(2, 3, (4, 3), "same", dilation: (1, 2), generator: new Generator(1));
        Assert.Equal((1, 2, 2, 2), conv.PadSides); // rows: 3 in all, 1 before and 2 after; columns: 2·2 = 4, 2 and 2
        Assert.Equal(new[] { 1, 3, 7, 6 }, conv.Forward(Tensor.Randn([1, 2, 7, 6], new Generator(2))).Shape);
        Assert.Contains("padding=same", conv.ToString());
        var summary = Fovea.Inspection.ModelSummary.Compute(new Sequential(conv), [2, 7, 6]);
        Assert.Equal(new[] { 1, 3, 7, 6 }, summary.Layers[^1].OutputShape);

        var conv1 = new Conv1d(2, 3, 4, "same", generator: new Generator(3));
        Assert.Equal((1, 2), conv1.PadSides);
        Assert.Equal(new[] { 2, 3, 9 }, conv1.Forward(Tensor.Randn([2, 2, 9], new Generator(4))).Shape);
    }

    [Fact]
    public void ValidPadsNothing()
    {
        var conv = new Conv2d(1, 1, 3, "valid");
        Assert.False(conv.Padded);
        Assert.Equal(new[] { 1, 1, 3, 3 }, conv.Forward(Tensor.Zeros(1, 1, 5, 5)).Shape);
    }

    [Fact]
    public void SameNeedsStrideOneAndOtherNamesAreRefused()
    {
        Assert.Contains("needs stride 1", Assert.Throws<ArgumentException>(() => new Conv2d(1, 1, 3, "same", stride: 2)).Message);
        Assert.Contains("needs stride 1", Assert.Throws<ArgumentException>(() => new Conv1d(1, 1, 3, "same", stride: 2)).Message);
        var e = Assert.Throws<ArgumentException>(() => new Conv2d(1, 1, 3, "full"));
        Assert.Contains("'full'", e.Message);
        Assert.Contains("'same' or 'valid'", e.Message);
    }
}
