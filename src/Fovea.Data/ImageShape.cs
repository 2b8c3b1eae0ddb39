namespace Fovea.Data;

/// <summary>The shape of one image sample, channels-first (CHW).</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Number of floats in one sample: C·H·W.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>The shape as an array [C, H, W].</summary>
    public int[] ToArray() => [Channels, Height, Width];

    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
