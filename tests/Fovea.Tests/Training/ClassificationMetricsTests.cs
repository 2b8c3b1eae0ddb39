using Fovea.Training;

namespace Fovea.Tests.Training;

public class ClassificationMetricsTests
{
    [Fact]
    public void TopOneAndTopFiveCountAsIlsvrcDefinesThem()
    {
        // 6 classes; the label's rank in each row is 1, 2, 5 and 6.
        var logits = Tensor.FromArray([
            9f, 1, 2, 3, 4, 5,   // label 0: best → top-1 and top-5
            5f, 9, 1, 2, 3, 4,   // label 0: second → top-5 only
            2f, 9, 8, 7, 6, 1,   // label 0: fifth → top-5 only
            1f, 9, 8, 7, 6, 5,   // label 0: sixth → neither
        ], [4, 6]);
        var labels = Tensor.FromArray(new long[] { 0, 0, 0, 0 }, [4]);
        var m = new ClassificationMetrics(6);
        m.Add(logits, labels, 0.5f);
        Assert.Equal(1, m.Top1Correct);
        Assert.Equal(3, m.Top5Correct);
        Assert.Equal(0.75, m.Top1Error);
        Assert.Equal(0.25, m.Top5Error, 12);
        Assert.Equal(0.5, m.Loss, 6);
        var conf = m.Confusion;
        Assert.Equal(1, conf[0, 0]);
        Assert.Equal(3, conf[0, 1]);
        Assert.Equal(0.25, m.PerClassAccuracy()[0]);
        Assert.True(double.IsNaN(m.PerClassAccuracy()[1]));
    }
}
