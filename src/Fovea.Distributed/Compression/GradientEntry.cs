using System.Runtime.InteropServices;

namespace Fovea.Distributed.Compression;

/// <summary>One sent entry of a sparse gradient: its position in the flat gradient (<see cref="FlatGradients"/> order)
/// and its value; 8 bytes, the unit the all-gather moves.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct GradientEntry(int Index, float Value)
{
    /// <summary>Bytes per entry on the wire.</summary>
    public const int Bytes = 8;

    /// <summary>Adds every entry's value at its index: the receiving side of the exchange. Entries are added in order,
    /// so every rank that adds the same gathered entries gets bitwise the same sum.</summary>
    public static void AddTo(ReadOnlySpan<GradientEntry> entries, Span<float> dense)
    {
        foreach (var e in entries) dense[e.Index] += e.Value;
    }
}
