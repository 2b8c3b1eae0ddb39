using System.CommandLine;
using Fovea.Data.WordNet;
using Fovea.IO;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea wordnet WNID</c>: a synset's name, gloss and every ancestor in WordNet 3.0's noun hierarchy.</summary>
internal static class WordNetCommand
{
    public static Command Create()
    {
        var wnid = new Argument<string>("wnid") { Description = "A WordNet noun id as ImageNet uses it, like n02123045" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: { wnid, name, lemmas, gloss, depth, ancestors: [{ wnid, name }], paths }" };
        var dir = new Option<string?>("--wordnet") { Description = "Folder holding WordNet 3.0's data.noun (default: $WNSEARCHDIR, then /usr/share/wordnet)" };
        var cmd = new Command("wordnet", "Look up a WordNet synset by wnid: its lemmas, gloss and all its ancestors (every hypernym path).")
        {
            wnid, json, dir,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(wnid)!, r.GetValue(json), r.GetValue(dir))));
        return cmd;
    }

    private static int Run(string wnid, bool json, string? dir)
    {
        var db = WordNetDatabase.Open(dir);
        var s = db.Get(wnid.Trim());
        var ancestors = db.Ancestors(s.Wnid);
        var paths = db.HypernymPaths(s.Wnid);
        if (json)
        {
            var o = new Dictionary<string, object>
            {
                ["wnid"] = s.Wnid,
                ["name"] = s.Name,
                ["lemmas"] = s.Lemmas,
                ["gloss"] = s.Gloss,
                ["depth"] = db.Depth(s.Wnid),
                ["ancestors"] = ancestors.Select(a => new Dictionary<string, string> { ["wnid"] = a.Wnid, ["name"] = a.Name }).ToArray(),
                ["paths"] = paths,
            };
            CliErrors.Line(JsonValues.Serialize(o));
            return 0;
        }
        CliErrors.Line($"{s.Wnid} {string.Join(", ", s.Lemmas.Select(l => l.Replace('_', ' ')))}");
        if (s.Gloss.Length > 0) CliErrors.Line($"  {s.Gloss}");
        CliErrors.Line($"ancestors ({ancestors.Count}, nearest first):");
        foreach (var a in ancestors) CliErrors.Line($"  {a.Wnid} {a.Name}");
        CliErrors.Line($"hypernym paths ({paths.Count}):");
        foreach (var p in paths) CliErrors.Line("  " + string.Join(" > ", p.Select(w => db.Get(w).Name)));
        return 0;
    }
}
