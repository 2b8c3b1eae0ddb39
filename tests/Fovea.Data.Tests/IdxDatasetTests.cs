namespace Fovea.Data.Tests;

public class IdxDatasetTests
{
    private static void WriteSet(string dir, int n, byte[]? labels = null, int? labelCount = null)
    {
        var pixels = new byte[n * 4];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i % 256);
        labels ??= Enumerable.Range(0, labelCount ?? n).Select(i => (byte)(i % 10)).ToArray();
        IdxFile.Write(Path.Combine(dir, MnistDataset.TrainImages), new IdxArray([n, 2, 2], pixels));
        IdxFile.Write(Path.Combine(dir, MnistDataset.TrainLabels), new IdxArray([labels.Length], labels));
    }

    [Fact]
    public void Reads_pixels_scaled_to_unit_range()
    {
        using var dir = new TempDir();
        WriteSet(dir.Path, 70);
        var ds = new MnistDataset(dir.Path, train: true);
        Assert.Equal(70, ds.Count);
        Assert.Equal(new ImageShape(1, 2, 2), ds.SampleShape);
        Assert.Equal(10, ds.ClassCount);
        var (image, label) = ds.Get(64);
        Assert.Equal(4, label);
        // Sample 64 holds bytes 256..259 mod 256 = 0,1,2,3.
        Assert.Equal([0f, 1 / 255f, 2 / 255f, 3 / 255f], image);
        ds.GetImage(63, image);
        Assert.Equal(255 / 255f, image[3]);
    }

    [Fact]
    public void Count_mismatch_names_both_files()
    {
        using var dir = new TempDir();
        WriteSet(dir.Path, 5, labelCount: 6);
        var e = Assert.Throws<InvalidDataException>(() => new MnistDataset(dir.Path, train: true));
        Assert.Contains(MnistDataset.TrainImages, e.Message);
        Assert.Contains(MnistDataset.TrainLabels, e.Message);
        Assert.Contains("5 images", e.Message);
        Assert.Contains("6 labels", e.Message);
    }

    [Fact]
    public void Label_out_of_range_names_the_file_and_index()
    {
        using var dir = new TempDir();
        WriteSet(dir.Path, 4, labels: [1, 2, 10, 3]);
        var e = Assert.Throws<InvalidDataException>(() => new MnistDataset(dir.Path, train: true));
        Assert.Contains(MnistDataset.TrainLabels, e.Message);
        Assert.Contains("label 10 at index 2", e.Message);
    }

    [Fact]
    public void Missing_folder_or_file_throws_FileNotFound()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => new MnistDataset(Path.Combine(dir.Path, "nope"), train: false));
        Assert.Contains("does not exist", e.Message);
        WriteSet(dir.Path, 3);
        e = Assert.Throws<FileNotFoundException>(() => new MnistDataset(dir.Path, train: false));
        Assert.Contains(MnistDataset.TestImages, e.Message);
    }

    [Fact]
    public void Uncompressed_file_names_are_accepted()
    {
        using var dir = new TempDir();
        IdxFile.Write(Path.Combine(dir.Path, "t10k-images-idx3-ubyte"), new IdxArray([1, 1, 1], [255]), gzip: false);
        IdxFile.Write(Path.Combine(dir.Path, "t10k-labels-idx1-ubyte"), new IdxArray([1], [7]), gzip: false);
        var ds = new MnistDataset(dir.Path, train: false, MnistDataset.FashionNames);
        Assert.Equal(7, ds.GetLabel(0));
        Assert.Equal("Sneaker", ds.ClassNames[7]);
    }
}
