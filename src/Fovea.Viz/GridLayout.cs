namespace Fovea.Viz;

/// <summary>Places <c>count</c> equal cells in a near-square grid: ⌈√count⌉ columns, with a gap around every cell.</summary>
public readonly record struct GridLayout(int Count, int CellWidth, int CellHeight, int Gap)
{
    public int Columns => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(Count)));
    public int Rows => Math.Max(1, (Count + Columns - 1) / Columns);
    public int Width => Columns * CellWidth + (Columns + 1) * Gap;
    public int Height => Rows * CellHeight + (Rows + 1) * Gap;

    /// <summary>The top-left pixel of cell <paramref name="index"/> (row-major).</summary>
    public (int X, int Y) Origin(int index) =>
        (Gap + index % Columns * (CellWidth + Gap), Gap + index / Columns * (CellHeight + Gap));
}
