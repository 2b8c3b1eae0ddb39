using System.Globalization;
using System.Text.RegularExpressions;

namespace Fovea.Cli;

/// <summary>Sizes in bytes as people write them (16GB, 512MiB, 1.5 GB) and as the tool prints them.</summary>
internal static partial class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("B", 1), ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000), ("TB", 1000_000_000_000),
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40),
    ];

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")]
    private static partial Regex Pattern();

    /// <summary>
    /// Bytes from a number with an optional unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
    /// 1024), case-insensitive; a bare number is bytes.
    /// </summary>
    /// <exception cref="ArgumentException">Anything else, in one line naming <paramref name="option"/> and what it expects.</exception>
    public static long Parse(string text, string option)
    {
        var m = Pattern().Match(text);
        long factor = 0;
        if (m.Success)
        {
            string unit = m.Groups[2].Value.ToUpperInvariant();
            factor = unit.Length == 0 ? 1 : Units.FirstOrDefault(u => u.Unit == unit).Factor;
        }
        if (factor == 0 || !decimal.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || value > long.MaxValue / (decimal)factor || value * factor < 1)
            throw new ArgumentException(
                $"{option} must be a size in bytes such as 16GB, 512MiB or 1000000 (units B, KB, MB, GB, TB or KiB, MiB, GiB, TiB), got '{text}'");
        return (long)(value * factor);
    }

    /// <summary>A readable size in binary units, e.g. 1.29 GiB.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {units[u]}");
    }
}
