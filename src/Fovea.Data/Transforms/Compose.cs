namespace Fovea.Data.Transforms;

/// <summary>Runs transforms in order, like torchvision's <c>Compose</c>, ping-ponging between two scratch buffers.</summary>
public sealed class Compose : ITransform
{
    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<ITransform> Transforms { get; }

    public Compose(params ITransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        foreach (var t in transforms) ArgumentNullException.ThrowIfNull(t, nameof(transforms));
        Transforms = transforms;
    }

    public ImageShape OutputShape(ImageShape input)
    {
        foreach (var t in Transforms) input = t.OutputShape(input);
        return input;
    }

    /// <summary>The largest intermediate image (in floats) the chain produces from <paramref name="input"/>.</summary>
    public int MaxLength(ImageShape input)
    {
        int max = input.Length;
        foreach (var t in Transforms)
        {
            input = t.OutputShape(input);
            max = Math.Max(max, input.Length);
        }
        return max;
    }

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        // Allocates two scratch buffers per call; the DataLoader avoids this by calling Run with its own.
        int max = MaxLength(shape);
        Run(source, shape, destination, new float[max], new float[max], ref random);
    }

    /// <summary>Runs the chain with caller-owned scratch buffers of at least <see cref="MaxLength"/> floats each.</summary>
    public void Run(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, Span<float> scratchA, Span<float> scratchB, ref SampleRandom random)
    {
        if (Transforms.Count == 0)
        {
            source[..shape.Length].CopyTo(destination);
            return;
        }
        ReadOnlySpan<float> current = source;
        for (int i = 0; i < Transforms.Count; i++)
        {
            var t = Transforms[i];
            var outShape = t.OutputShape(shape);
            Span<float> target = i == Transforms.Count - 1 ? destination : (i % 2 == 0 ? scratchA : scratchB);
            t.Apply(current, shape, target[..outShape.Length], ref random);
            current = target;
            shape = outShape;
        }
    }
}
