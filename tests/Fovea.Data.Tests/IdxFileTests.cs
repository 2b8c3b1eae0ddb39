using System.IO.Compression;

namespace Fovea.Data.Tests;

public class IdxFileTests
{
    private static IdxArray Images(int n, int rows, int cols)
    {
        var data = new byte[n * rows * cols];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + 3);
        return new IdxArray([n, rows, cols], data);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RoundTrip_images_and_labels(bool gzip)
    {
        using var dir = new TempDir();
        var images = Images(5, 4, 3);
        var labels = new IdxArray([5], [0, 9, 3, 3, 1]);
        // The reader detects gzip by content: give the raw file a .gz name and the gzip one none.
        string ip = dir.File(gzip ? "images" : "images.gz"), lp = dir.File("labels");
        IdxFile.Write(ip, images, gzip);
        IdxFile.Write(lp, labels, gzip);

        Assert.Equal(gzip, IdxFile.IsGzip(ip));
        var ri = IdxFile.ReadImages(ip);
        var rl = IdxFile.ReadLabels(lp);
        Assert.Equal([5, 4, 3], ri.Dimensions);
        Assert.Equal(images.Data, ri.Data);
        Assert.Equal([5], rl.Dimensions);
        Assert.Equal(labels.Data, rl.Data);
        Assert.Equal([5, 4, 3], IdxFile.ReadDimensions(ip, 3));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Raw_file_has_the_standard_header()
    {
        using var dir = new TempDir();
        string p = dir.File("x");
        IdxFile.Write(p, Images(2, 3, 4), gzip: false);
        var bytes = File.ReadAllBytes(p);
        Assert.Equal(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4 }, bytes[..16]);
        Assert.Equal(16 + 24, bytes.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Truncated_payload_throws_naming_the_file(bool gzip)
    {
        using var dir = new TempDir();
        string good = dir.File("good"), bad = dir.File("truncated-images.idx");
        IdxFile.Write(good, Images(10, 28, 28), gzip: false);
        var bytes = File.ReadAllBytes(good);
        WriteMaybeGzip(bad, bytes[..(bytes.Length - 100)], gzip);

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(bad));
        Assert.Contains(bad, e.Message);
        Assert.Contains("7840", e.Message); // expected
        Assert.Contains("7740", e.Message); // found
    }

    [Fact]
    public void Truncated_gzip_stream_throws_naming_the_file()
    {
        using var dir = new TempDir();
        string p = dir.File("cut.gz");
        IdxFile.Write(p, Images(50, 28, 28), gzip: true);
        var bytes = File.ReadAllBytes(p);
        File.WriteAllBytes(p, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(p));
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void Truncated_header_throws()
    {
        using var dir = new TempDir();
        string p = dir.File("short");
        File.WriteAllBytes(p, [0, 0, 8, 3, 0, 0, 0, 2, 0, 0]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("header", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bad_magic_throws_naming_the_file(bool gzip)
    {
        using var dir = new TempDir();
        string p = dir.File("not-idx");
        WriteMaybeGzip(p, "<html>not found</html>"u8.ToArray(), gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Label_file_where_images_expected_throws_with_expected_magic()
    {
        using var dir = new TempDir();
        string p = dir.File("labels");
        IdxFile.Write(p, new IdxArray([3], [1, 2, 3]));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void Unsupported_type_and_trailing_data_throw()
    {
        using var dir = new TempDir();
        string p = dir.File("float");
        File.WriteAllBytes(p, [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("0x0D", Assert.Throws<InvalidDataException>(() => IdxFile.Read(p)).Message);

        File.WriteAllBytes(p, [0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(p));
        Assert.Contains("after the payload", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_throws_naming_the_file()
    {
        using var dir = new TempDir();
        string p = dir.File("corrupt.gz");
        IdxFile.Write(p, Images(20, 28, 28));
        var bytes = File.ReadAllBytes(p);
        for (int i = 20; i < bytes.Length - 8; i += 3) bytes[i] ^= 0x5A;
        File.WriteAllBytes(p, bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(p));
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void Missing_file_throws_FileNotFound_with_the_path()
    {
        string p = Path.Combine(Path.GetTempPath(), "fovea-no-such-file-" + Guid.NewGuid());
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.Read(p));
        Assert.Contains(p, e.Message);
    }

    private static void WriteMaybeGzip(string path, byte[] content, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(path, content); return; }
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(content);
    }
}
