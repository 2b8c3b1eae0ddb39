namespace Fovea.Data.WordNet;

/// <summary>
/// One noun synset of WordNet 3.0, as ImageNet names it: its wnid (<c>n</c> plus the eight-digit byte offset of
/// its line in <c>data.noun</c>), its lemmas, its gloss, and the wnids of its hypernyms (both class hypernyms,
/// pointer <c>@</c>, and instance hypernyms, pointer <c>@i</c>).
/// </summary>
public sealed record Synset(string Wnid, IReadOnlyList<string> Lemmas, string Gloss, IReadOnlyList<string> Hypernyms)
{
    /// <summary>The first lemma with underscores as spaces (<c>dog</c>, <c>domestic animal</c>): the synset's usual name.</summary>
    public string Name => Lemmas.Count == 0 ? Wnid : Lemmas[0].Replace('_', ' ');

    /// <summary>The offset in <c>data.noun</c>.</summary>
    public long Offset => long.Parse(Wnid.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() => $"{Wnid} {Name}";
}
