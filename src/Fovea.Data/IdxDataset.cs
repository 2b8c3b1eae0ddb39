namespace Fovea.Data;

/// <summary>
/// A data set read from a pair of IDX files: images [N, rows, cols] and labels [N], both unsigned bytes.
/// Everything is held in memory as bytes (47 MB for the 60,000 Fashion-MNIST training images) and scaled
/// to [0, 1] as a sample is read. Images are one channel: the sample shape is 1×rows×cols.
/// </summary>
public class IdxDataset : IDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly int _pixelsPerImage;

    /// <summary>Reads both files and checks that they agree. Throws <see cref="FileNotFoundException"/> for
    /// a missing file and <see cref="InvalidDataException"/> (naming the file) for a corrupt one, for
    /// differing counts, or for a label outside [0, class count).</summary>
    /// <param name="imagesPath">An IDX image file (magic 2051), raw or gzip.</param>
    /// <param name="labelsPath">An IDX label file (magic 2049), raw or gzip.</param>
    /// <param name="classNames">One name per class; when null, the classes are named "0", "1", … up to
    /// the largest label found (at least 10 classes, as in MNIST).</param>
    public IdxDataset(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null)
    {
        var images = IdxFile.ReadImages(imagesPath);
        var labels = IdxFile.ReadLabels(labelsPath);
        if (images.Count != labels.Count)
            throw new InvalidDataException(
                $"IDX files disagree: '{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Count} labels");

        int max = -1;
        foreach (byte l in labels.Data) if (l > max) max = l;
        if (classNames is null)
        {
            int n = Math.Max(10, max + 1);
            classNames = Enumerable.Range(0, n).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        else if (max >= classNames.Count)
        {
            int at = Array.IndexOf(labels.Data, (byte)max);
            throw new InvalidDataException(
                $"IDX file '{labelsPath}': label {max} at index {at} is out of range: expected labels in [0, {classNames.Count - 1}] for {classNames.Count} classes");
        }

        _pixels = images.Data;
        _labels = labels.Data;
        SampleShape = new ImageShape(1, images.Dimensions[1], images.Dimensions[2]);
        _pixelsPerImage = SampleShape.Length;
        ClassNames = classNames;
        ImagesPath = imagesPath;
        LabelsPath = labelsPath;
    }

    /// <summary>The image file this set was read from.</summary>
    public string ImagesPath { get; }

    /// <summary>The label file this set was read from.</summary>
    public string LabelsPath { get; }

    public int Count => _labels.Length;
    public ImageShape SampleShape { get; }
    public int ClassCount => ClassNames.Count;
    public IReadOnlyList<string> ClassNames { get; }

    public long GetLabel(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    public void GetImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        var src = _pixels.AsSpan(index * _pixelsPerImage, _pixelsPerImage);
        if (destination.Length < src.Length)
            throw new ArgumentException($"destination holds {destination.Length} floats, a sample needs {src.Length}", nameof(destination));
        // ToTensor: bytes 0..255 → [0, 1], exactly b / 255f as torchvision computes it.
        var table = ByteToUnit;
        for (int i = 0; i < src.Length; i++) destination[i] = table[src[i]];
    }

    /// <summary>The raw bytes of image <paramref name="index"/> (rows×cols, row-major).</summary>
    public ReadOnlySpan<byte> GetRawImage(int index)
    {
        CheckIndex(index);
        return _pixels.AsSpan(index * _pixelsPerImage, _pixelsPerImage);
    }

    private static readonly float[] ByteToUnit = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_labels.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the data set holds {_labels.Length} samples");
    }
}
