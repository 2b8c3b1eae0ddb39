namespace Fovea;

/// <summary>How border cells are filled when a tensor is padded.</summary>
public enum PadMode
{
    /// <summary>A constant (zero by default).</summary>
    Zeros,
    /// <summary>Mirror without repeating the edge: [a b c] → b [a b c] b.</summary>
    Reflect,
    /// <summary>Repeat the edge: a [a b c] c.</summary>
    Replicate,
    /// <summary>Wrap around: c [a b c] a.</summary>
    Circular,
}

/// <summary>
/// The pre-pad step shared by convolutions and pools: pads the last two dims of an NCHW tensor
/// (1-D signals use height 1). Planes = N·C.
/// </summary>
public readonly record struct PadGeometry(int Planes, int InHeight, int InWidth, int Top, int Bottom, int Left, int Right,
    PadMode Mode, float Value = 0f)
{
    public int OutHeight => InHeight + Top + Bottom;
    public int OutWidth => InWidth + Left + Right;

    public void Validate()
    {
        if (Top < 0 || Bottom < 0 || Left < 0 || Right < 0)
            throw new ArgumentException($"padding must not be negative, got top={Top} bottom={Bottom} left={Left} right={Right}");
        if (Mode == PadMode.Reflect && (Top >= InHeight && Top > 0 || Bottom >= InHeight && Bottom > 0 || Left >= InWidth && Left > 0 || Right >= InWidth && Right > 0))
            throw new ArgumentException($"reflect padding ({Top},{Bottom},{Left},{Right}) must be smaller than the input {InHeight}x{InWidth} in each dimension");
        if (Mode == PadMode.Circular && (Top > InHeight || Bottom > InHeight || Left > InWidth || Right > InWidth))
            throw new ArgumentException($"circular padding ({Top},{Bottom},{Left},{Right}) must not exceed the input {InHeight}x{InWidth}");
        if (Mode == PadMode.Replicate && (InHeight == 0 || InWidth == 0))
            throw new ArgumentException("replicate padding needs a non-empty input");
    }
}
