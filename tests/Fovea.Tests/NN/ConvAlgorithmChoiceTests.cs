using Fovea.NN;

namespace Fovea.Tests.NN;

public class ConvAlgorithmChoiceTests
{
    [Fact]
    public void AutoIsResolvedAndReportedAndAnOverrideIsHonoured()
    {
        var conv = new Conv2d(8, 8, 3, padding: 1);
        Assert.Null(conv.ChosenAlgorithm);
        var x = Tensor.Randn([2, 8, 10, 10], new Generator(2));
        var auto = conv.Forward(x);
        Assert.NotNull(conv.ChosenAlgorithm);
        Assert.NotEqual(ConvAlgorithm.Auto, conv.ChosenAlgorithm);
        conv.Algorithm = ConvAlgorithm.Fft;
        var fft = conv.Forward(x);
        Assert.Equal(ConvAlgorithm.Fft, conv.ChosenAlgorithm);
        Support.Close.Assert(auto.ToArray(), fft.ToArray(), "fft vs auto");
    }

    [Fact]
    public void OneByOneConvolutionsGoDirect() =>
        Assert.Equal(ConvAlgorithm.Direct, Device.Cpu.Backend.ChooseConvAlgorithm(ConvGeometry.Create(1, 64, 28, 28, 64, 1, 1)));

    [Fact]
    public void AnAlgorithmThatCannotTakeTheShapeIsRefusedByName()
    {
        var conv = new Conv2d(3, 4, 3, stride: 2) { Algorithm = ConvAlgorithm.Fft };
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(1, 3, 9, 9)));
        Assert.Contains("Fft", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AFiveTapFilterOfPointTwoIsAMovingAverage()
    {
        var conv = new Conv1d(1, 1, 5, bias: false);
        conv.Weight.CopyFrom(Tensor.Full([1, 1, 5], 0.2f));
        var signal = new float[] { 1, 5, 2, 8, 3, 9, 4, 7, 6, 0 };
        var y = conv.Forward(Tensor.FromArray(signal, [1, 1, 10])).ToArray();
        Assert.Equal(6, y.Length);
        for (int i = 0; i < y.Length; i++) Assert.Equal(signal.Skip(i).Take(5).Average(), y[i], 5);
    }
}
