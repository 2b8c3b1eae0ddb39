namespace Fovea.Data;

/// <summary>
/// An MNIST-layout folder: the four standard files <c>train-images-idx3-ubyte.gz</c>,
/// <c>train-labels-idx1-ubyte.gz</c>, <c>t10k-images-idx3-ubyte.gz</c>, <c>t10k-labels-idx1-ubyte.gz</c>
/// (the same names without <c>.gz</c> are accepted too). Used for MNIST and Fashion-MNIST alike; to have
/// the folder filled for you, use <see cref="DataSources.Load"/>.
/// </summary>
public sealed class MnistDataset : IdxDataset
{
    /// <summary>Reads the training (<paramref name="train"/> true) or test split from <paramref name="folder"/>.</summary>
    public MnistDataset(string folder, bool train, IReadOnlyList<string>? classNames = null)
        : base(FindFile(folder, train ? TrainImages : TestImages),
               FindFile(folder, train ? TrainLabels : TestLabels),
               classNames ?? DigitNames)
    {
        Train = train;
    }

    /// <summary>Whether this is the training split.</summary>
    public bool Train { get; }

    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The four standard file names.</summary>
    public static IReadOnlyList<string> FileNames { get; } = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>MNIST's classes: the digits "0" to "9".</summary>
    public static IReadOnlyList<string> DigitNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Fashion-MNIST's classes, indexed by label.</summary>
    public static IReadOnlyList<string> FashionNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The path of a standard file in <paramref name="folder"/>: the <c>.gz</c> name, or the same
    /// name without <c>.gz</c> when only that exists. Throws <see cref="FileNotFoundException"/> naming both.</summary>
    public static string FindFile(string folder, string gzName)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string gz = Path.Combine(folder, gzName);
        if (File.Exists(gz)) return gz;
        string raw = gz[..^3];
        if (File.Exists(raw)) return raw;
        throw new FileNotFoundException(
            Directory.Exists(folder)
                ? $"MNIST-style folder '{folder}' lacks '{gzName}' (nor is there '{Path.GetFileName(raw)}')"
                : $"MNIST-style folder '{folder}' does not exist (looked for '{gzName}')",
            gz);
    }
}
