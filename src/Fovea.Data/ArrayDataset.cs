namespace Fovea.Data;

/// <summary>A data set over arrays already in memory: images as float32 CHW, one after another, and labels.</summary>
public sealed class ArrayDataset : IDataset
{
    private readonly float[] _images;
    private readonly long[] _labels;

    /// <summary>Wraps (does not copy) <paramref name="images"/> (N·C·H·W floats) and <paramref name="labels"/>
    /// (N values in [0, <paramref name="classCount"/>)).</summary>
    public ArrayDataset(float[] images, long[] labels, ImageShape shape, int classCount, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0)
            throw new ArgumentException($"bad sample shape {shape}", nameof(shape));
        if ((long)labels.Length * shape.Length != images.Length)
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * shape.Length} image floats of shape {shape}, got {images.Length}", nameof(images));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= classCount)
                throw new ArgumentException($"label {labels[i]} at index {i} is out of range [0, {classCount - 1}]", nameof(labels));
        if (classNames is not null && classNames.Count != classCount)
            throw new ArgumentException($"{classNames.Count} class names for {classCount} classes", nameof(classNames));
        _images = images;
        _labels = labels;
        SampleShape = shape;
        ClassCount = classCount;
        ClassNames = classNames ?? Enumerable.Range(0, classCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    public int Count => _labels.Length;
    public ImageShape SampleShape { get; }
    public int ClassCount { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public long GetLabel(int index) => _labels[index];

    public void GetImage(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)_labels.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the data set holds {_labels.Length} samples");
        int n = SampleShape.Length;
        _images.AsSpan(index * n, n).CopyTo(destination);
    }
}
