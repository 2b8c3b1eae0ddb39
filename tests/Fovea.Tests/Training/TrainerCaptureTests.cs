using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Tests.Training;

public class TrainerCaptureTests
{
    private const int Classes = 4;

    // A max over the spatial axes, whose backward finds the maxima on the host: a step no replay can repeat.
    private sealed class GlobalMax : Module
    {
        public override Tensor Forward(Tensor x) => x.Max(3).Max(2);
    }

    private static Sequential Net(bool hostReadingBackward) => hostReadingBackward
        ? new(new Conv2d(1, 6, 3, padding: 1, generator: new Generator(1)), new ReLU(), new GlobalMax(), new Linear(6, Classes, generator: new Generator(2)))
        : new(new Conv2d(1, 6, 3, padding: 1, generator: new Generator(1)), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2), new Flatten(),
            new Dropout(0.2f, new Generator(3)), new Linear(6 * 4 * 4, Classes, generator: new Generator(2)));

    // Three batches of 8 and a last one of 5, as an epoch whose size is not a multiple of the batch ends.
    private static List<(Tensor, Tensor)> Batches(int epoch)
    {
        var g = new Generator(50 + epoch);
        return [.. new[] { 8, 8, 8, 5 }.Select(n =>
        {
            var labels = new long[n];
            for (int i = 0; i < n; i++) labels[i] = g.NextInt(Classes);
            return (Tensor.Randn([n, 1, 8, 8], g), Tensor.FromArray(labels, [n]));
        })];
    }

    private static (double Loss, double Top1, float[] State, bool Replayed) Train(bool capture, bool hostReadingBackward)
    {
        var net = Net(hostReadingBackward);
        var trainer = new Trainer(net, new CrossEntropyLoss(), new SGD(net.Parameters(), 0.05f, 0.9f)) { CaptureSteps = capture };
        ClassificationMetrics m = null!;
        for (int epoch = 0; epoch < 2; epoch++) m = trainer.TrainEpoch(Batches(epoch), Classes, epoch, 4);
        float[] state = [.. net.Parameters().SelectMany(p => p.ToArray()), .. net.NamedBuffers().SelectMany(b => b.Buffer.ToArray())];
        return (m.Loss, m.Top1Accuracy, state, trainer.Replays);
    }

    [Fact]
    public void CapturedEpochsTrainExactlyAsEagerOnes()
    {
        var eager = Train(capture: false, hostReadingBackward: false);
        var captured = Train(capture: true, hostReadingBackward: false);
        Assert.Equal(eager.Loss, captured.Loss);
        Assert.Equal(eager.Top1, captured.Top1);
        Assert.Equal(eager.State, captured.State);
        Assert.True(captured.Replayed);
    }

    [Fact]
    public void AStepThatCannotBeCapturedTrainsEagerly()
    {
        var eager = Train(capture: false, hostReadingBackward: true);
        var captured = Train(capture: true, hostReadingBackward: true);
        Assert.Equal(eager.Loss, captured.Loss);
        Assert.Equal(eager.State, captured.State);
        Assert.False(captured.Replayed);
    }

    [Fact]
    public void AnOutOfRangeLabelInAReplayedBatchIsNamedBeforeTheStepRuns()
    {
        var net = Net(hostReadingBackward: false);
        var trainer = new Trainer(net, new CrossEntropyLoss(), new SGD(net.Parameters(), 0.05f, 0.9f));
        var batches = Batches(0);
        trainer.TrainEpoch(batches.Take(1), Classes, 0, 1);
        Assert.True(trainer.Replays);
        var weights = net.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var (images, labels) = batches[1];
        var bad = labels.ToLongArray();
        bad[5] = Classes + 8;
        var e = Assert.Throws<ArgumentException>(() => trainer.TrainEpoch([(images, Tensor.FromArray(bad, labels.Shape))], Classes, 1, 1));
        Assert.Equal($"label {Classes + 8} is out of range for {Classes} classes (epoch 2, batch 1)", e.Message);
        Assert.Equal(weights, net.Parameters().SelectMany(p => p.ToArray()).ToArray());
    }
}
