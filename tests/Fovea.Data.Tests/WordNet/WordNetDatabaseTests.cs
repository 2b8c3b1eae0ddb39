using Fovea.Data;
using Fovea.Data.WordNet;

namespace Fovea.Data.Tests.WordNetTests;

/// <summary>Against the real WordNet 3.0 database (Debian's wordnet-base in /usr/share/wordnet).</summary>
public sealed class WordNetDatabaseTests
{
    private static readonly WordNetDatabase Db = WordNetDatabase.Open();

    [Fact]
    public void Dog_has_lemmas_gloss_and_two_hypernyms()
    {
        var dog = Db.Get("n02084071");
        Assert.Equal("dog", dog.Name);
        Assert.Equal(["dog", "domestic_dog", "Canis_familiaris"], dog.Lemmas);
        Assert.StartsWith("a member of the genus Canis", dog.Gloss);
        Assert.Equal(["n02083346", "n01317541"], dog.Hypernyms);
    }

    [Fact]
    public void Dog_ancestors_follow_both_hypernyms_up_to_entity()
    {
        var ancestors = Db.Ancestors("n02084071").Select(s => s.Wnid).ToList();
        // The two direct hypernyms come first (nearest first), in the database's order.
        Assert.Equal("n02083346", ancestors[0]); // canine
        Assert.Equal("n01317541", ancestors[1]); // domestic animal
        foreach (var w in new[] { "n02075296" /* carnivore */, "n01861778" /* mammal */, "n00015388" /* animal */, "n00001740" /* entity */ })
            Assert.Contains(w, ancestors);
        Assert.Equal("entity", Db.Get(ancestors[^1]).Name);
        Assert.Equal(ancestors.Count, ancestors.Distinct().Count());
        Assert.DoesNotContain("n02084071", ancestors);

        // Two hypernyms: at least one path through each, every path from dog to entity.
        var paths = Db.HypernymPaths("n02084071");
        Assert.True(paths.Count >= 2);
        Assert.All(paths, p => { Assert.Equal("n02084071", p[0]); Assert.Equal("n00001740", p[^1]); });
        Assert.Contains(paths, p => p[1] == "n02083346");
        Assert.Contains(paths, p => p[1] == "n01317541");
        // The domestic-animal path is the short one: dog, domestic animal, animal, organism, living thing, whole, object, physical entity, entity.
        Assert.Equal(8, Db.MinDepth("n02084071"));
        Assert.Equal(paths.Max(p => p.Count) - 1, Db.Depth("n02084071"));
        Assert.True(Db.Depth("n02084071") > Db.Depth("n02083346"));
        Assert.True(Db.MinDepth("n02084071") < Db.MinDepth("n02083346")); // why Depth is the longest path
        Assert.Equal(0, Db.Depth("n00001740"));
    }

    [Fact]
    public void Tabby_cat_is_a_domestic_cat_a_feline_and_a_carnivore()
    {
        var tabby = Db.Get("n02123045");
        Assert.Equal("tabby", tabby.Name);
        var names = Db.Ancestors("n02123045").Select(s => s.Name).ToList();
        Assert.Equal("domestic cat", names[0]);
        Assert.Contains("feline", names);
        Assert.Contains("carnivore", names);
        Assert.Contains("entity", names);
    }

    [Fact]
    public void Instance_hypernyms_are_followed()
    {
        // Hegira is an instance (@i) of n00058743 (flight), not a subclass.
        var hegira = Db.Get("n00060548");
        Assert.Equal(["n00058743"], hegira.Hypernyms);
        Assert.Contains(Db.Ancestors("n00060548"), s => s.Wnid == "n00001740");
    }

    [Fact]
    public void Imagenet_classes_used_by_the_demo_exist()
    {
        Assert.Equal("sweater", Db.Get("n04370048").Name);
        Assert.Equal("sandal", Db.Get("n04133789").Name);
    }

    [Fact]
    public void Hierarchical_match_wrong_breed_right_dog()
    {
        const string chihuahua = "n02085620", shepherd = "n02106662", tabby = "n02123045", dog = "n02084071", carnivore = "n02075296";
        Assert.True(Db.ShareAncestor(chihuahua, shepherd, dog));
        Assert.False(Db.ShareAncestor(chihuahua, tabby, dog));
        Assert.True(Db.ShareAncestor(chihuahua, tabby, carnivore));
        Assert.True(Db.ShareAncestor(dog, chihuahua, dog));
        Assert.True(Db.IsA(chihuahua, dog));
        Assert.False(Db.IsA(dog, chihuahua));

        var common = Db.CommonAncestors(chihuahua, shepherd);
        Assert.Equal(dog, common[0].Wnid); // the lowest common ancestor
        Assert.True(Db.ShareAncestorAtDepth(chihuahua, shepherd, Db.Depth(dog)));
        Assert.False(Db.ShareAncestorAtDepth(chihuahua, tabby, Db.Depth(dog)));
        Assert.True(Db.ShareAncestorAtDepth(chihuahua, tabby, Db.Depth(carnivore)));
    }

    [Fact]
    public void Hierarchical_accuracy_counts_near_misses()
    {
        string[] classes = ["n02085620", "n02106662", "n02123045"]; // chihuahua, German shepherd, tabby
        var confusion = new long[3, 3] { { 5, 3, 2 }, { 0, 10, 0 }, { 1, 0, 9 } };
        double exact = WordNetDatabase.HierarchicalAccuracy(confusion, classes, (_, _) => false);
        Assert.Equal(24.0 / 30, exact, 12);
        double dogLevel = WordNetDatabase.HierarchicalAccuracy(confusion, classes, (t, p) => Db.ShareAncestor(t, p, "n02084071"));
        Assert.Equal(27.0 / 30, dogLevel, 12);
        double carnivoreLevel = WordNetDatabase.HierarchicalAccuracy(confusion, classes, (t, p) => Db.ShareAncestor(t, p, "n02075296"));
        Assert.Equal(1.0, carnivoreLevel, 12);
    }

    [Theory]
    [InlineData("dog")]
    [InlineData("n0208407")]
    [InlineData("x02084071")]
    [InlineData("n02084072")] // inside dog's line
    [InlineData("n99999999")] // past the end
    public void Bad_wnids_are_clear_errors(string wnid)
    {
        var e = Assert.Throws<ArgumentException>(() => Db.Get(wnid));
        Assert.Contains(wnid[..Math.Min(wnid.Length, 3)], e.Message);
        Assert.Null(Db.TryGet(wnid));
    }

    [Fact]
    public void Missing_database_folder_says_where_it_looked()
    {
        var e = Assert.Throws<DatasetUnavailableException>(() => WordNetDatabase.Open("/nonexistent-wordnet"));
        Assert.Contains("/nonexistent-wordnet", e.Message);
    }

    [Fact]
    public void Lookups_are_safe_from_several_threads()
    {
        var db = WordNetDatabase.Open();
        var results = new int[8];
        Parallel.For(0, 8, i => results[i] = db.Ancestors(i % 2 == 0 ? "n02084071" : "n02123045").Count);
        Assert.All(results.Where((_, i) => i % 2 == 0), r => Assert.Equal(results[0], r));
        Assert.All(results.Where((_, i) => i % 2 == 1), r => Assert.Equal(results[1], r));
    }
}
