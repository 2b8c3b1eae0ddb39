using Fovea.IO;

namespace Fovea.Tests.IO;

public class NpyTests
{
    [Fact]
    public void SaveThenLoadRoundTripsFloatsAndLabels()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-npy").FullName;
        var x = Tensor.FromArray([1.5f, -2, 3, 4, 5, 6], [2, 3]);
        Npy.Save(Path.Combine(dir, "x.npy"), x);
        var back = Npy.Load(Path.Combine(dir, "x.npy"));
        Assert.Equal(new[] { 2, 3 }, back.Shape);
        Assert.Equal(x.ToArray(), back.ToArray());
        var y = Tensor.FromArray(new long[] { 3, 1, 4 }, [3]);
        Npy.Save(Path.Combine(dir, "y.npy"), y);
        Assert.Equal(y.ToLongArray(), Npy.Load(Path.Combine(dir, "y.npy")).ToLongArray());
    }

    [Fact]
    public void ReadsNumPysOwnFiles()
    {
        // Written by NumPy (tools/fixtures): a float64 reference and an int64 label array.
        var f = Npy.Read(Path.Combine(Support.Fixture.Root, "losses", "ce_mean", "target.npy"));
        Assert.Equal("<i8", f.Descr);
        Assert.Equal(new[] { 5 }, f.Shape);
        Assert.Equal("<f8", Npy.Read(Path.Combine(Support.Fixture.Root, "losses", "ce_mean", "output.npy")).Descr);
    }

    [Fact]
    public void TruncatedOrForeignFilesAreClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-npy").FullName;
        var path = Path.Combine(dir, "x.npy");
        Npy.Save(path, Tensor.Ones(10, 10));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Load(path));
        Assert.Contains("truncated", e.Message);
        File.WriteAllText(path, "not numpy at all");
        Assert.Contains("not a .npy file", Assert.Throws<InvalidDataException>(() => Npy.Load(path)).Message);
    }
}
