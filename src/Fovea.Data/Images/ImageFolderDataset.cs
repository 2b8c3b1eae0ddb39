using System.Collections.Concurrent;

namespace Fovea.Data.Images;

/// <summary>
/// Images stored as <c>root/&lt;class&gt;/**/*.jpg|jpeg|png</c>, like torchvision's <c>ImageFolder</c> (ImageNet's
/// layout, with wnids as class folders). Classes are the folder names sorted ordinally (label = position); files
/// are sorted within a class. Every sample comes out as <see cref="SampleShape"/> = (C, S, S): the image is decoded
/// (on the calling thread: the loader's workers; a JPEG at least twice S on its shorter side is decoded at a reduced
/// DCT scale that keeps it at least S), its shorter side resized to S with an antialiased bilinear filter,
/// and the central S×S square kept — the AlexNet paper's preprocessing with S = 256. Random crops, flips and
/// normalisation then run as the loader's transforms (<see cref="ImageNetPreprocessing"/>).
/// <para>A file whose header cannot be read is skipped when the folder is scanned, with a warning naming it
/// (<see cref="Skipped"/>); with <c>verify</c> every file is fully decoded then, so truncated data are caught too.
/// A file that fails later, while reading a sample, is warned about once, counted in <see cref="FailedReads"/>, and
/// replaced by the next readable image of the same class, so the label stays right and training never stops.</para>
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly int[][] _byClass;      // sample indices of each class, for replacements
    private readonly int[] _positionInClass;
    private readonly ConcurrentDictionary<int, bool> _bad = new();
    private readonly Action<string> _warn;
    private int _failedReads;

    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="size">S: the shorter side is resized to S, then the central S×S square is kept.</param>
    /// <param name="channels">3 for RGB (grey images replicated to three channels) or 1 for grey (colour images
    /// converted to luma).</param>
    /// <param name="classes">The class folder names in label order; null takes the sorted sub-folders of
    /// <paramref name="root"/>. Give the training set's classes to a validation folder so labels agree; a class
    /// missing from <paramref name="root"/> then just has no samples.</param>
    /// <param name="verify">Decode every file while scanning, so corrupt data are skipped up front (slower).</param>
    /// <param name="warn">Where warnings go; standard error when null.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folders, or no readable image at all.</exception>
    public ImageFolderDataset(string root, int size = 256, int channels = 3, IReadOnlyList<string>? classes = null,
        bool verify = false, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 (grey) or 3 (RGB)");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"no image folder '{root}'");
        _warn = warn ?? (m => Console.Error.WriteLine(m));
        Root = root;
        Size = size;
        SampleShape = new ImageShape(channels, size, size);

        var names = classes?.ToArray() ?? Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (names.Length == 0) throw new InvalidDataException($"'{root}' has no class folders (expected root/<class>/<image>.jpg)");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length) throw new ArgumentException("duplicate class names", nameof(classes));
        ClassNames = names;

        var files = new List<string>();
        var labels = new List<int>();
        var skipped = new List<string>();
        for (int c = 0; c < names.Length; c++)
        {
            var dir = Path.Combine(root, names[c]);
            if (!Directory.Exists(dir))
            {
                _warn($"warning: class '{names[c]}' has no folder in '{root}'");
                continue;
            }
            var found = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(ImageDecoder.HasImageExtension).Order(StringComparer.Ordinal).ToList();
            int kept = 0;
            foreach (var f in found)
            {
                string? error = ImageDecoder.Probe(f).Error;
                if (error is null && verify)
                {
                    try { ImageDecoder.Decode(f, channels); }
                    catch (InvalidDataException e) { error = e.Message; }
                }
                if (error is not null)
                {
                    skipped.Add(f);
                    _warn($"warning: skipping '{f}': {error}");
                    continue;
                }
                files.Add(f);
                labels.Add(c);
                kept++;
            }
            if (kept == 0) _warn($"warning: class '{names[c]}' has no readable images in '{dir}'");
        }
        if (files.Count == 0)
            throw new InvalidDataException($"no readable .jpg/.jpeg/.png images under '{root}' ({skipped.Count} skipped)");
        _files = files.ToArray();
        _labels = labels.ToArray();
        Skipped = skipped;
        _byClass = new int[names.Length][];
        _positionInClass = new int[_files.Length];
        for (int c = 0; c < names.Length; c++)
            _byClass[c] = Enumerable.Range(0, _files.Length).Where(i => _labels[i] == c).ToArray();
        for (int c = 0; c < names.Length; c++)
            for (int k = 0; k < _byClass[c].Length; k++) _positionInClass[_byClass[c][k]] = k;
    }

    /// <summary>The folder the samples come from.</summary>
    public string Root { get; }

    /// <summary>S: the side of every sample.</summary>
    public int Size { get; }

    public int Count => _files.Length;
    public ImageShape SampleShape { get; }
    public int ClassCount => ClassNames.Count;

    /// <summary>The class folder names (wnids for ImageNet), in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Files left out when the folder was scanned, because they could not be read.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>How many sample reads failed and were replaced by another image of the same class.</summary>
    public int FailedReads => Volatile.Read(ref _failedReads);

    /// <summary>The file of sample <paramref name="index"/>.</summary>
    public string FilePath(int index) => _files[index];

    public long GetLabel(int index) => _labels[index];

    public void GetImage(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)_files.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the data set holds {_files.Length} samples");
        var same = _byClass[_labels[index]];
        int start = _positionInClass[index];
        for (int k = 0; k < same.Length; k++)
        {
            int i = same[(start + k) % same.Length];
            if (_bad.ContainsKey(i)) continue;
            try
            {
                var (pixels, shape) = ImageDecoder.Decode(_files[i], SampleShape.Channels, shorterSideAtLeast: Size);
                ResizeShorterAndCenterCrop(pixels, shape, destination, Size);
                return;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                if (_bad.TryAdd(i, true))
                {
                    Interlocked.Increment(ref _failedReads);
                    _warn($"warning: cannot read '{_files[i]}' ({e.Message}); using another image of class '{ClassNames[_labels[i]]}' in its place");
                }
            }
        }
        throw new InvalidDataException($"no image of class '{ClassNames[_labels[index]]}' under '{Root}' can be read");
    }

    /// <summary>Resizes the shorter side of a CHW image to <paramref name="size"/> and writes the central
    /// <paramref name="size"/>×<paramref name="size"/> square (offsets rounded as torchvision's <c>CenterCrop</c>).</summary>
    public static void ResizeShorterAndCenterCrop(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, int size)
    {
        var (rh, rw) = ImageResize.ShorterSideSize(shape.Height, shape.Width, size);
        int top = CenterCrop.Offset(rh, size), left = CenterCrop.Offset(rw, size);
        ImageResize.ResizeWindow(source, shape, destination, rh, rw, top, left, size, size);
        // The filter's weights are non-negative and sum to one, so only rounding can step outside [0, 1].
        var o = destination[..(shape.Channels * size * size)];
        for (int i = 0; i < o.Length; i++) o[i] = Math.Clamp(o[i], 0f, 1f);
    }
}
