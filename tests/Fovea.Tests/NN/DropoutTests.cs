using Fovea.NN;

namespace Fovea.Tests.NN;

public class DropoutTests
{
    [Fact]
    public void TrainingZeroesAboutPAndScalesTheRestEvalIsIdentity()
    {
        var d = new Dropout(0.3f, new Generator(5));
        var x = Tensor.Ones(100, 100);
        x.RequiresGrad = true;
        var y = d.Forward(x);
        var v = y.ToArray();
        double zeros = v.Count(e => e == 0f) / (double)v.Length;
        Assert.InRange(zeros, 0.28, 0.32);
        Assert.All(v.Where(e => e != 0f), e => Assert.Equal(1f / 0.7f, e, 5));
        y.Sum().Backward();
        Assert.Equal(v, x.Grad!.ToArray());
        d.Eval();
        Assert.Same(x, d.Forward(x));
    }
}
