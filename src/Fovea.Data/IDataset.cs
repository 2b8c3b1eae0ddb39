namespace Fovea.Data;

/// <summary>
/// A labelled image data set of a fixed size. Images come out as float32, channels-first (CHW), scaled to
/// [0, 1] (the "ToTensor" step happens in the read); transforms run afterwards in the <see cref="DataLoader"/>.
/// Implementations must allow concurrent calls to <see cref="GetImage"/> and <see cref="GetLabel"/> from
/// several threads (the loader's workers).
/// </summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Shape of every image.</summary>
    ImageShape SampleShape { get; }

    /// <summary>Number of classes; labels lie in [0, ClassCount).</summary>
    int ClassCount { get; }

    /// <summary>One name per class, indexed by label.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The class label of sample <paramref name="index"/>.</summary>
    long GetLabel(int index);

    /// <summary>Writes sample <paramref name="index"/> (CHW, values in [0, 1]) into
    /// <paramref name="destination"/>, which holds at least <see cref="ImageShape.Length"/> floats.</summary>
    void GetImage(int index, Span<float> destination);
}

/// <summary>Conveniences over <see cref="IDataset"/>.</summary>
public static class DatasetExtensions
{
    /// <summary>Sample <paramref name="index"/> as a fresh array plus its label (allocates; the loader does not use this).</summary>
    public static (float[] Image, long Label) Get(this IDataset dataset, int index)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var image = new float[dataset.SampleShape.Length];
        dataset.GetImage(index, image);
        return (image, dataset.GetLabel(index));
    }

    /// <summary>How many samples carry each label.</summary>
    public static int[] ClassHistogram(this IDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var counts = new int[dataset.ClassCount];
        for (int i = 0; i < dataset.Count; i++) counts[dataset.GetLabel(i)]++;
        return counts;
    }
}
