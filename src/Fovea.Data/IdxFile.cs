using System.Buffers.Binary;
using System.IO.Compression;

namespace Fovea.Data;

/// <summary>An unsigned-byte array read from (or to be written to) an IDX file: its dimensions and its
/// row-major payload.</summary>
public sealed class IdxArray
{
    /// <summary>Wraps <paramref name="data"/> (not copied) with the given dimensions; their product must equal the data length.</summary>
    public IdxArray(int[] dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        if (dimensions.Length is 0 or > 255)
            throw new ArgumentException($"an IDX array has 1 to 255 dimensions, got {dimensions.Length}", nameof(dimensions));
        long count = 1;
        foreach (int d in dimensions)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in [{string.Join(", ", dimensions)}]", nameof(dimensions));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"dimensions [{string.Join(", ", dimensions)}] hold {count} bytes, data has {data.Length}", nameof(data));
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The sizes, outermost first: [N] for labels, [N, rows, cols] for images.</summary>
    public int[] Dimensions { get; }

    /// <summary>The payload, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>The outermost dimension: the number of items.</summary>
    public int Count => Dimensions[0];
}

/// <summary>
/// Reads and writes the IDX format of MNIST-style data sets (LeCun et al.): a 4-byte magic
/// <c>00 00 type ndim</c>, <c>ndim</c> big-endian int32 sizes, then the payload. Only the unsigned-byte
/// type (0x08) is supported, which covers MNIST, Fashion-MNIST, KMNIST and EMNIST. Files may be raw or
/// gzip-compressed; gzip is recognised by its magic bytes (1f 8b), whatever the file is called.
/// </summary>
public static class IdxFile
{
    /// <summary>The IDX type code of unsigned bytes.</summary>
    public const byte UnsignedByte = 0x08;

    /// <summary>Magic number of an image file: unsigned bytes, 3 dimensions (2051).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of a label file: unsigned bytes, 1 dimension (2049).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads a whole IDX file (raw or gzip). Throws <see cref="FileNotFoundException"/> when it
    /// is missing and <see cref="InvalidDataException"/> naming the file when it is corrupt or truncated.</summary>
    public static IdxArray Read(string path) => Full(ReadCore(path, expectedDimensions: null, headerOnly: false));

    /// <summary>Reads an image file: magic 2051, dimensions [N, rows, cols].</summary>
    public static IdxArray ReadImages(string path) => Full(ReadCore(path, expectedDimensions: 3, headerOnly: false));

    /// <summary>Reads a label file: magic 2049, dimensions [N].</summary>
    public static IdxArray ReadLabels(string path) => Full(ReadCore(path, expectedDimensions: 1, headerOnly: false));

    private static IdxArray Full((int[] Dims, byte[]? Data) r) => new(r.Dims, r.Data!);

    /// <summary>Reads only the header (magic and dimensions) of a file: a cheap check that a file is an
    /// IDX file of the expected rank. The payload is not read, so a truncated payload is not detected.</summary>
    public static int[] ReadDimensions(string path, int? expectedDimensions = null) =>
        ReadCore(path, expectedDimensions, headerOnly: true).Dims;

    /// <summary>Whether the file starts with the gzip magic bytes 1f 8b.</summary>
    public static bool IsGzip(string path)
    {
        using var f = File.OpenRead(path);
        return f.ReadByte() == 0x1f && f.ReadByte() == 0x8b;
    }

    /// <summary>Writes <paramref name="array"/> as an unsigned-byte IDX file, gzip-compressed unless
    /// <paramref name="gzip"/> is false. The file is written under a temporary name in the same folder
    /// and then renamed, so a reader never sees a half-written file.</summary>
    public static void Write(string path, IdxArray array, bool gzip = true)
    {
        ArgumentNullException.ThrowIfNull(array);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Stream s = gzip ? new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true) : file;
                try
                {
                    Span<byte> header = stackalloc byte[4];
                    header[0] = 0; header[1] = 0; header[2] = UnsignedByte; header[3] = (byte)array.Dimensions.Length;
                    s.Write(header);
                    foreach (int d in array.Dimensions)
                    {
                        BinaryPrimitives.WriteInt32BigEndian(header, d);
                        s.Write(header);
                    }
                    s.Write(array.Data);
                }
                finally
                {
                    if (gzip) s.Dispose();
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static (int[] Dims, byte[]? Data) ReadCore(string path, int? expectedDimensions, bool headerOnly)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist", path);

        bool gz = IsGzip(path);
        using var file = File.OpenRead(path);
        using Stream s = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
        string what = gz ? "gzip IDX file" : "IDX file";
        try
        {
            Span<byte> magic = stackalloc byte[4];
            int got = ReadFully(s, magic);
            if (got < 4)
                throw Bad(path, $"expected a 4-byte magic number, found only {got} bytes ({what})");
            if (magic[0] != 0 || magic[1] != 0)
                throw Bad(path, $"bad magic number 0x{BinaryPrimitives.ReadInt32BigEndian(magic):X8}: expected 00 00 in the first two bytes ({what}; is this an IDX file?)");
            if (magic[2] != UnsignedByte)
                throw Bad(path, $"unsupported IDX element type 0x{magic[2]:X2}: expected 0x08 (unsigned byte)");
            int rank = magic[3];
            if (rank == 0)
                throw Bad(path, "bad magic number: the file declares 0 dimensions");
            if (expectedDimensions is { } want && rank != want)
            {
                int wantMagic = want == 3 ? ImagesMagic : want == 1 ? LabelsMagic : (UnsignedByte << 8) | want;
                throw Bad(path, $"bad magic number 0x{BinaryPrimitives.ReadInt32BigEndian(magic):X8} ({rank} dimensions): expected 0x{wantMagic:X8} ({want} dimension{(want == 1 ? "" : "s")})");
            }

            var dims = new int[rank];
            Span<byte> four = stackalloc byte[4];
            long count = 1;
            for (int i = 0; i < rank; i++)
            {
                got = ReadFully(s, four);
                if (got < 4)
                    throw Bad(path, $"truncated header: expected {rank} dimension sizes, the file ends in size {i + 1}");
                int d = BinaryPrimitives.ReadInt32BigEndian(four);
                if (d < 0)
                    throw Bad(path, $"dimension {i} is negative ({d})");
                if (i > 0 && d == 0)
                    throw Bad(path, $"dimension {i} is zero");
                dims[i] = d;
                count *= d;
                if (count > Array.MaxLength)
                    throw Bad(path, $"dimensions [{string.Join(", ", dims[..(i + 1)])}] hold more than {Array.MaxLength} bytes");
            }
            if (headerOnly)
                return (dims, null);

            var data = new byte[count];
            got = ReadFully(s, data);
            if (got < count)
                throw Bad(path, $"truncated payload: dimensions [{string.Join(", ", dims)}] need {count} bytes after the header, found {got}");
            if (s.ReadByte() != -1)
                throw Bad(path, $"unexpected data after the payload: dimensions [{string.Join(", ", dims)}] need {count} bytes, the file holds more");
            return (dims, data);
        }
        catch (InvalidDataException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            // GZipStream's own errors (bad CRC, corrupt deflate data) do not say which file.
            throw Bad(path, $"corrupt gzip stream ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw Bad(path, $"unexpected end of file ({e.Message})", e);
        }
    }

    private static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InvalidDataException Bad(string path, string problem, Exception? inner = null) =>
        new($"IDX file '{path}': {problem}", inner);

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
