using Fovea.Optim;

namespace Fovea.Tests.Training;

/// <summary>What rate a schedule goes on with when a run resumes from a checkpoint.</summary>
public class SchedulerResumeTests
{
    private static SGD Sgd() => new([new Fovea.NN.Parameter(Tensor.Zeros([1]))], 0.1f, 0.9f);

    [Fact]
    public void AFinishedCosineRunExtendedGoesOnOverItsNewLength()
    {
        var opt = Sgd();
        var oneEpoch = new CosineAnnealingLR(opt, 1);
        oneEpoch.Step();
        Assert.Equal(0f, opt.LearningRate, 1e-7f); // where the one-epoch run stopped, and what its checkpoint holds

        var resumed = Sgd();
        new CosineAnnealingLR(resumed, 2).Restore(1, 0f);
        Assert.Equal(0.05f, resumed.LearningRate, 1e-7f); // (1 + cos(π/2)) / 2 of 0.1
    }

    [Fact]
    public void ResumingWithTheSameLengthGivesTheRateTheRunHad()
    {
        var opt = Sgd();
        var schedule = new StepLR(opt, 2, 0.5f);
        for (int e = 0; e < 3; e++) schedule.Step();
        var resumed = Sgd();
        var again = new StepLR(resumed, 2, 0.5f);
        again.Restore(3, opt.LearningRate);
        Assert.Equal(opt.LearningRate, resumed.LearningRate);
        Assert.Equal(3, again.Epoch);
    }

    [Fact]
    public void PlateauGoesOnFromTheRateTheRunStoppedAt()
    {
        var resumed = Sgd();
        new ReduceLROnPlateau(resumed, 0.5f, 1).Restore(4, 0.025f);
        Assert.Equal(0.025f, resumed.LearningRate);
    }
}
