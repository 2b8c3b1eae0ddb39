namespace Fovea;

/// <summary>A (height, width) pair that converts from one int (square) or a tuple, like PyTorch's int-or-tuple arguments.</summary>
public readonly record struct Size2(int H, int W)
{
    public static implicit operator Size2(int v) => new(v, v);
    public static implicit operator Size2((int H, int W) t) => new(t.H, t.W);
    public override string ToString() => H == W ? $"{H}" : $"({H}, {W})";
}
