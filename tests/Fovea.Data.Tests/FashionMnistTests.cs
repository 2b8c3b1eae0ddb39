namespace Fovea.Data.Tests;

/// <summary>The real Fashion-MNIST, copied from Debian's dataset-fashion-mnist package (installed here and
/// by .ci/run), once per test run into a temp data folder.</summary>
public sealed class FashionMnistFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public FashionMnistFixture()
    {
        Folder = DataSources.Ensure("fashion-mnist", DataDir, Log.Add);
        Train = new MnistDataset(Folder, train: true, MnistDataset.FashionNames);
        Test = new MnistDataset(Folder, train: false, MnistDataset.FashionNames);
    }

    public string DataDir => _dir.Path;
    public string Folder { get; }
    public List<string> Log { get; } = [];
    public MnistDataset Train { get; }
    public MnistDataset Test { get; }

    public void Dispose() => _dir.Dispose();
}

public class FashionMnistTests(FashionMnistFixture fx) : IClassFixture<FashionMnistFixture>
{
    [Fact]
    public void Debian_package_is_installed()
    {
        Assert.True(DataSources.IsComplete(DataSources.DebianFashionMnistFolder, out string problem),
            $"{DataSources.DebianFashionMnistFolder}: {problem} (apt-get install dataset-fashion-mnist)");
    }

    [Fact]
    public void Ensure_copies_into_the_data_folder_with_a_source_note()
    {
        Assert.Equal(Path.Combine(fx.DataDir, "fashion-mnist"), fx.Folder);
        foreach (string f in MnistDataset.FileNames) Assert.True(File.Exists(Path.Combine(fx.Folder, f)), f);
        Assert.Contains("dataset-fashion-mnist", File.ReadAllText(Path.Combine(fx.Folder, "SOURCE.txt")));
        Assert.Contains(fx.Log, l => l.Contains("copying"));
    }

    [Fact]
    public void Counts_shape_and_balanced_labels()
    {
        Assert.Equal(60_000, fx.Train.Count);
        Assert.Equal(10_000, fx.Test.Count);
        Assert.Equal(new ImageShape(1, 28, 28), fx.Train.SampleShape);
        Assert.Equal(new ImageShape(1, 28, 28), fx.Test.SampleShape);
        Assert.Equal(10, fx.Train.ClassCount);
        Assert.Equal("Ankle boot", fx.Train.ClassNames[9]);
        Assert.Equal("T-shirt/top", fx.Train.ClassNames[0]);
        Assert.All(fx.Train.ClassHistogram(), c => Assert.Equal(6_000, c));
        Assert.All(fx.Test.ClassHistogram(), c => Assert.Equal(1_000, c));
    }

    [Fact]
    public void Pixels_are_in_unit_range_and_the_mean_matches_the_published_statistic()
    {
        var image = new float[784];
        double sum = 0;
        float min = 1, max = 0;
        for (int i = 0; i < fx.Train.Count; i += 10)
        {
            fx.Train.GetImage(i, image);
            foreach (float v in image) { sum += v; min = Math.Min(min, v); max = Math.Max(max, v); }
        }
        Assert.Equal(0f, min);
        Assert.Equal(1f, max);
        double mean = sum / (6_000 * 784.0);
        Assert.InRange(mean, 0.27, 0.30); // Fashion-MNIST's training mean is 0.2860
    }

    [Fact]
    public void Second_Ensure_does_not_copy_again()
    {
        var before = MnistDataset.FileNames.Select(f => File.GetLastWriteTimeUtc(Path.Combine(fx.Folder, f))).ToArray();
        var log = new List<string>();
        Assert.Equal(fx.Folder, DataSources.Ensure("Fashion-MNIST", fx.DataDir, log.Add));
        var after = MnistDataset.FileNames.Select(f => File.GetLastWriteTimeUtc(Path.Combine(fx.Folder, f))).ToArray();
        Assert.Equal(before, after);
        Assert.DoesNotContain(log, l => l.Contains("copying"));
    }

    [Fact]
    public void Load_gives_the_named_split()
    {
        var test = DataSources.Load("fashion-mnist", train: false, fx.DataDir);
        Assert.Equal(10_000, test.Count);
        Assert.Equal(fx.Test.GetLabel(1234), test.GetLabel(1234));
        Assert.Equal("Trouser", test.ClassNames[1]);
    }
}
