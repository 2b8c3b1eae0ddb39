using Fovea.Data.Transforms;

namespace Fovea.Data.Tests;

/// <summary>The example of src/Fovea.Data/README.md, kept compiling and running (on a temp data folder, one epoch's first batches).</summary>
public class ReadmeExampleTests(FashionMnistFixture fx) : IClassFixture<FashionMnistFixture>
{
    [Fact]
    public void Readme_example_runs()
    {
        var train = DataSources.Load("fashion-mnist", train: true, dataDir: fx.DataDir, log: null);
        using var loader = new DataLoader(train, batchSize: 64, shuffle: true, seed: 1,
            transforms: [new RandomCrop(28, padding: 2), new RandomHorizontalFlip(), Normalize.FashionMnist()],
            numWorkers: 2);
        Assert.Equal(938, loader.BatchesPerEpoch);
        int seen = 0;
        foreach (Batch b in loader.GetEpoch(0).Take(20))
        {
            Assert.Equal([64, 1, 28, 28], b.Images.Shape);
            Assert.Equal([64], b.Labels.Shape);
            var x = b.Images.ToArray();
            Assert.Contains(x, v => v < -0.5f); // normalised background: (0 - 0.286) / 0.353 = -0.81
            seen++;
        }
        Assert.Equal(20, seen);
    }
}
