using Fovea.IO;

namespace Fovea.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void AFileInTheWayOfTheFolderNamesTheFolder()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-atomic").FullName;
        var file = Path.Combine(dir, "x.npy");
        File.WriteAllText(file, "x");
        var target = Path.Combine(file, "run", "y.bin");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, s => s.WriteByte(1)));
        Assert.StartsWith($"cannot create the folder '{Path.Combine(file, "run")}'", e.Message);
        Assert.StartsWith("cannot create the folder", Assert.Throws<IOException>(() => AtomicFile.CreateFolder(Path.Combine(file, "run"))).Message);
    }

    [Fact]
    public void AFolderAtThePathIsRefusedByName()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-atomic").FullName;
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(dir, s => s.WriteByte(1)));
        Assert.Equal($"cannot write '{dir}': it is a folder", e.Message);
    }

    [Fact]
    public void AWriteThatFailsLeavesTheOldFileAndNoTemporaryOne()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-atomic").FullName;
        var path = Path.Combine(dir, "w.bin");
        AtomicFile.Write(path, s => s.Write([1, 2, 3]));
        Assert.Throws<InvalidDataException>(() => AtomicFile.Write(path, s =>
        {
            s.WriteByte(9);
            throw new InvalidDataException("half way");
        }));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
