namespace Fovea.Tests.Support;

/// <summary>Tests that measure the whole process (live memory) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
