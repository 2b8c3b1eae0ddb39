using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Fovea.Data.WordNet;

/// <summary>
/// The noun hierarchy of WordNet 3.0 read straight from its database files (Debian's <c>wordnet-base</c> puts them
/// in <c>/usr/share/wordnet</c>). A wnid such as <c>n02123045</c> is the byte offset 02123045 of the synset's line
/// in <c>data.noun</c>, so a lookup is one positional read; nothing is loaded up front, parsed synsets are cached,
/// and every member is safe to call from several threads. No file handle stays open between calls.
/// </summary>
public sealed class WordNetDatabase
{
    /// <summary>Folders searched, in order, when none is given: <c>$WNSEARCHDIR</c>, then the usual install places.</summary>
    public static IReadOnlyList<string> DefaultSearchPath { get; } = BuildSearchPath();

    private readonly string _dataNoun;
    private readonly long _length;
    private readonly ConcurrentDictionary<string, Synset> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<IReadOnlyList<string>>> _paths = new(StringComparer.Ordinal);

    private WordNetDatabase(string directory, string dataNoun)
    {
        Directory = directory;
        _dataNoun = dataNoun;
        _length = new FileInfo(dataNoun).Length;
    }

    /// <summary>The folder holding <c>data.noun</c>.</summary>
    public string Directory { get; }

    /// <summary>Opens the database in <paramref name="directory"/> (the folder with <c>data.noun</c>, or its parent
    /// with a <c>dict</c> folder); null searches <see cref="DefaultSearchPath"/>.</summary>
    /// <exception cref="DatasetUnavailableException">No <c>data.noun</c> where asked, or anywhere on the search path.</exception>
    public static WordNetDatabase Open(string? directory = null)
    {
        if (directory is not null)
        {
            foreach (var d in new[] { directory, Path.Combine(directory, "dict") })
            {
                var f = Path.Combine(d, "data.noun");
                if (File.Exists(f)) return new WordNetDatabase(d, f);
            }
            throw new DatasetUnavailableException($"no WordNet 3.0 database in '{directory}': expected '{Path.Combine(directory, "data.noun")}'");
        }
        foreach (var d in DefaultSearchPath)
        {
            var f = Path.Combine(d, "data.noun");
            if (File.Exists(f)) return new WordNetDatabase(d, f);
        }
        throw new DatasetUnavailableException(
            $"WordNet 3.0 was not found (looked for data.noun in {string.Join(", ", DefaultSearchPath)}); install it (Debian: apt-get install wordnet-base) or pass its folder with --wordnet DIR");
    }

    private static string[] BuildSearchPath()
    {
        var list = new List<string>();
        if (Environment.GetEnvironmentVariable("WNSEARCHDIR") is { Length: > 0 } env) list.Add(env);
        list.AddRange(["/usr/share/wordnet", "/usr/share/wordnet/dict", "/usr/local/WordNet-3.0/dict", "/usr/local/share/wordnet"]);
        return list.ToArray();
    }

    /// <summary>True when <paramref name="wnid"/> has the form of a noun wnid: <c>n</c> and eight digits.</summary>
    public static bool IsWnid(string? wnid) =>
        wnid is { Length: 9 } && wnid[0] == 'n' && wnid.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>The synset <paramref name="wnid"/>.</summary>
    /// <exception cref="ArgumentException">Not of the form <c>n########</c>, or no synset starts at that offset.</exception>
    public Synset Get(string wnid)
    {
        ArgumentNullException.ThrowIfNull(wnid);
        if (_cache.TryGetValue(wnid, out var s)) return s;
        s = Read(wnid);
        return _cache.GetOrAdd(wnid, s);
    }

    /// <summary>The synset, or null when <paramref name="wnid"/> names none.</summary>
    public Synset? TryGet(string wnid)
    {
        try { return Get(wnid); }
        catch (ArgumentException) { return null; }
    }

    private Synset Read(string wnid)
    {
        if (!IsWnid(wnid))
            throw new ArgumentException($"'{wnid}' is not a WordNet noun id: expected 'n' and eight digits, like n02123045");
        long offset = long.Parse(wnid.AsSpan(1), CultureInfo.InvariantCulture);
        if (offset >= _length)
            throw new ArgumentException($"{wnid} is not a synset: offset {offset} lies past the end of {_dataNoun} ({_length} bytes)");
        string line = ReadLine(offset);
        if (!line.StartsWith(wnid.AsSpan(1), StringComparison.Ordinal) || line.Length < 10 || line[8] != ' ')
            throw new ArgumentException($"{wnid} is not a synset: no synset line starts at offset {offset} of {_dataNoun}");
        return Parse(wnid, line);
    }

    // Reads from offset to the next newline, and checks the offset is at the start of a line.
    private string ReadLine(long offset)
    {
        using var handle = File.OpenHandle(_dataNoun, FileMode.Open, FileAccess.Read, FileShare.Read);
        var bytes = new List<byte>(512);
        var buffer = new byte[4096];
        long pos = offset;
        if (offset > 0)
        {
            // A synset's offset is the first byte of its line: the byte before it must end the previous line.
            Span<byte> prev = stackalloc byte[1];
            if (RandomAccess.Read(handle, prev, offset - 1) != 1 || prev[0] != (byte)'\n')
                throw new ArgumentException($"n{offset:D8} is not a synset: offset {offset} of {_dataNoun} is inside another line");
        }
        while (true)
        {
            int n = RandomAccess.Read(handle, buffer, pos);
            if (n == 0) break;
            int nl = Array.IndexOf(buffer, (byte)'\n', 0, n);
            if (nl >= 0)
            {
                bytes.AddRange(buffer.AsSpan(0, nl));
                break;
            }
            bytes.AddRange(buffer.AsSpan(0, n));
            pos += n;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    // data.noun line: offset lex_filenum ss_type w_cnt(hex) [word lex_id]... p_cnt [symbol offset pos source/target]... | gloss
    private Synset Parse(string wnid, string line)
    {
        int bar = line.IndexOf(" | ", StringComparison.Ordinal);
        string head = bar >= 0 ? line[..bar] : line;
        string gloss = bar >= 0 ? line[(bar + 3)..].Trim() : "";
        var t = head.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            int i = 3;
            int words = int.Parse(t[i++], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var lemmas = new string[words];
            for (int w = 0; w < words; w++, i += 2) lemmas[w] = t[i];
            int pointers = int.Parse(t[i++], CultureInfo.InvariantCulture);
            var hypernyms = new List<string>();
            for (int p = 0; p < pointers; p++, i += 4)
                if ((t[i] == "@" || t[i] == "@i") && t[i + 2] == "n") hypernyms.Add("n" + t[i + 1]);
            return new Synset(wnid, lemmas, gloss, hypernyms);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or FormatException)
        {
            throw new InvalidDataException($"{_dataNoun}: the line of {wnid} is not a WordNet 3.0 data line ({e.Message})", e);
        }
    }

    /// <summary>
    /// Every path from <paramref name="wnid"/> up to a root (<c>entity</c>, n00001740), each starting with the
    /// synset itself and ending at the root. A synset with two hypernyms (WordNet is a DAG) has at least two paths.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> HypernymPaths(string wnid)
    {
        if (_paths.TryGetValue(wnid, out var cached)) return cached;
        var s = Get(wnid);
        var result = new List<IReadOnlyList<string>>();
        if (s.Hypernyms.Count == 0) result.Add([wnid]);
        foreach (var h in s.Hypernyms)
            foreach (var up in HypernymPaths(h))
            {
                var path = new List<string>(up.Count + 1) { wnid };
                path.AddRange(up);
                result.Add(path);
            }
        return _paths.GetOrAdd(wnid, result);
    }

    /// <summary>
    /// Every ancestor of <paramref name="wnid"/> (not the synset itself), each once, nearest first: by the fewest
    /// hypernym steps from the synset, ties in the order the database lists the hypernyms.
    /// </summary>
    public IReadOnlyList<Synset> Ancestors(string wnid)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { wnid };
        var order = new List<Synset>();
        var frontier = new List<string> { wnid };
        while (frontier.Count > 0)
        {
            var next = new List<string>();
            foreach (var f in frontier)
                foreach (var h in Get(f).Hypernyms)
                    if (seen.Add(h))
                    {
                        order.Add(Get(h));
                        next.Add(h);
                    }
            frontier = next;
        }
        return order;
    }

    /// <summary>The synset and all its ancestors, as a set of wnids.</summary>
    public IReadOnlySet<string> SelfAndAncestors(string wnid)
    {
        var set = new HashSet<string>(StringComparer.Ordinal) { wnid };
        foreach (var a in Ancestors(wnid)) set.Add(a.Wnid);
        return set;
    }

    /// <summary>The depth of a synset: hypernym steps on its longest path to the root (entity has depth 0). Unlike the
    /// shortest path, this depth always grows going down (a synset is deeper than each of its hypernyms), so "a
    /// common ancestor at depth d or deeper" is a level of the hierarchy.</summary>
    public int Depth(string wnid) => HypernymPaths(wnid).Max(p => p.Count) - 1;

    /// <summary>Hypernym steps on the shortest path to the root (NLTK's <c>min_depth</c>).</summary>
    public int MinDepth(string wnid) => HypernymPaths(wnid).Min(p => p.Count) - 1;

    /// <summary>True when <paramref name="ancestor"/> is <paramref name="wnid"/> itself or one of its ancestors.</summary>
    public bool IsA(string wnid, string ancestor) => wnid == ancestor ? Get(wnid) is not null : SelfAndAncestors(wnid).Contains(ancestor);

    /// <summary>The synsets that both <paramref name="a"/> and <paramref name="b"/> are (each counted as its own
    /// ancestor), nearest to <paramref name="a"/> first (fewest hypernym steps up from it), so the first is the lowest
    /// common ancestor as seen from <paramref name="a"/>.</summary>
    public IReadOnlyList<Synset> CommonAncestors(string a, string b)
    {
        var bs = SelfAndAncestors(b);
        var list = new List<Synset>();
        if (bs.Contains(a)) list.Add(Get(a));
        list.AddRange(Ancestors(a).Where(s => bs.Contains(s.Wnid)));
        return list;
    }

    /// <summary>
    /// Hierarchical correctness, "wrong dog breed but right dog": true when the true and the predicted synsets both
    /// are <paramref name="ancestor"/> (either may be it itself).
    /// </summary>
    public bool ShareAncestor(string trueWnid, string predictedWnid, string ancestor) =>
        IsA(trueWnid, ancestor) && IsA(predictedWnid, ancestor);

    /// <summary>True when the true and the predicted synsets have a common ancestor (or are equal) at
    /// <see cref="Depth"/> <paramref name="depth"/> or deeper.</summary>
    public bool ShareAncestorAtDepth(string trueWnid, string predictedWnid, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        return CommonAncestors(trueWnid, predictedWnid).Any(s => Depth(s.Wnid) >= depth);
    }

    /// <summary>
    /// Accuracy at a level of the hierarchy, from a confusion matrix [true class, predicted class] whose classes are
    /// the wnids <paramref name="classWnids"/>: the fraction of samples whose prediction shares an ancestor with the
    /// truth under <paramref name="match"/> (for example <c>(t, p) =&gt; db.ShareAncestor(t, p, "n02084071")</c>, or
    /// <c>(t, p) =&gt; db.ShareAncestorAtDepth(t, p, 8)</c>). Exact hits always count.
    /// </summary>
    public static double HierarchicalAccuracy(long[,] confusion, IReadOnlyList<string> classWnids, Func<string, string, bool> match)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        ArgumentNullException.ThrowIfNull(classWnids);
        ArgumentNullException.ThrowIfNull(match);
        int k = classWnids.Count;
        if (confusion.GetLength(0) != k || confusion.GetLength(1) != k)
            throw new ArgumentException($"a {confusion.GetLength(0)}x{confusion.GetLength(1)} confusion matrix for {k} classes");
        long total = 0, good = 0;
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++)
            {
                long n = confusion[t, p];
                if (n == 0) continue;
                total += n;
                if (t == p || match(classWnids[t], classWnids[p])) good += n;
            }
        return total == 0 ? double.NaN : (double)good / total;
    }
}
