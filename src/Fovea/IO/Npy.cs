using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fovea.IO;

/// <summary>An array read from a .npy file, kept at its stored precision.</summary>
public sealed record NpyArray(int[] Shape, string Descr, double[]? Doubles, long[]? Longs)
{
    /// <summary>The values as float32 (from f4 or f8), or as int64 labels.</summary>
    public Tensor ToTensor() => Longs is not null
        ? Tensor.FromArray(Longs, Shape)
        : Tensor.FromArray(Array.ConvertAll(Doubles!, d => (float)d), Shape);
}

/// <summary>
/// NumPy's .npy format (version 1.0/2.0): a magic string, a Python-dict header with descr, fortran_order and shape,
/// then the raw little-endian data. Reads '&lt;f4', '&lt;f8', '&lt;i8', '&lt;i4', '|u1'; writes '&lt;f4' and '&lt;i8'.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Loads a .npy file as a tensor (float32, or int64 for integer arrays).</summary>
    public static Tensor Load(string path) => Read(path).ToTensor();

    /// <summary>Reads a .npy file at full stored precision.</summary>
    public static NpyArray Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read '{path}': {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string name = "array")
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"'{name}' is not a .npy file (no \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLen, start;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); start = 10; }
        else if (major is 2 or 3 && bytes.Length >= 12) { headerLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]); start = 12; }
        else throw new InvalidDataException($"'{name}': unsupported .npy version {major}");
        if (start + headerLen > bytes.Length) throw new InvalidDataException($"'{name}': truncated .npy header");
        var header = Encoding.Latin1.GetString(bytes.Slice(start, headerLen));
        var descr = DescrRegex().Match(header) is { Success: true } d ? d.Groups[1].Value
            : throw new InvalidDataException($"'{name}': .npy header has no descr: {header.Trim()}");
        if (FortranRegex().Match(header) is { Success: true } f && f.Groups[1].Value == "True")
            throw new InvalidDataException($"'{name}': Fortran-ordered .npy arrays are not supported; save with C order");
        var sm = ShapeRegex().Match(header);
        if (!sm.Success) throw new InvalidDataException($"'{name}': .npy header has no shape: {header.Trim()}");
        var shape = sm.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int n = Shapes.Count(shape);
        var data = bytes[(start + headerLen)..];
        int size = descr switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, "|u1" or "|b1" => 1, _ => 0 };
        if (size == 0) throw new InvalidDataException($"'{name}': unsupported dtype '{descr}' (expected <f4, <f8, <i4, <i8 or |u1)");
        if (data.Length < (long)n * size)
            throw new InvalidDataException($"'{name}': truncated .npy data: shape {Shapes.Format(shape)} needs {(long)n * size} bytes, found {data.Length}");
        switch (descr)
        {
            case "<f4":
                { var o = new double[n]; for (int i = 0; i < n; i++) o[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]); return new(shape, descr, o, null); }
            case "<f8":
                { var o = new double[n]; for (int i = 0; i < n; i++) o[i] = BinaryPrimitives.ReadDoubleLittleEndian(data[(i * 8)..]); return new(shape, descr, o, null); }
            case "<i4":
                { var o = new long[n]; for (int i = 0; i < n; i++) o[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(i * 4)..]); return new(shape, descr, null, o); }
            case "<i8":
                { var o = new long[n]; for (int i = 0; i < n; i++) o[i] = BinaryPrimitives.ReadInt64LittleEndian(data[(i * 8)..]); return new(shape, descr, null, o); }
            default:
                { var o = new double[n]; for (int i = 0; i < n; i++) o[i] = data[i]; return new(shape, descr, o, null); }
        }
    }

    /// <summary>Saves a tensor as .npy ('&lt;f4' or '&lt;i8'), atomically.</summary>
    public static void Save(string path, Tensor t) =>
        AtomicFile.Write(path, s =>
        {
            bool isLong = t.DType == DType.Int64;
            var shape = t.Shape;
            var shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
            var dict = $"{{'descr': '{(isLong ? "<i8" : "<f4")}', 'fortran_order': False, 'shape': {shapeText}, }}";
            // Pad so the data starts on a 64-byte boundary, as NumPy does; the header ends with a newline.
            int total = 10 + dict.Length + 1;
            int pad = (64 - total % 64) % 64;
            var header = dict + new string(' ', pad) + "\n";
            s.Write(Magic);
            s.WriteByte(1);
            s.WriteByte(0);
            Span<byte> len = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
            s.Write(len);
            s.Write(Encoding.Latin1.GetBytes(header));
            s.Write(TensorBytes.LittleEndian(t));
        });

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
