using System.Globalization;

namespace Fovea.Cli;

/// <summary>How a class is shown in predict's and eval's tables: its index, then its name unless the name is the index.</summary>
internal static class ClassLabel
{
    /// <summary>"281 n02123045" for ImageNet's classes, "7" for MNIST's (named by their digits), not "7 7".</summary>
    public static string Of(long index, string? name)
    {
        string i = index.ToString(CultureInfo.InvariantCulture);
        return name is null || name == i ? i : $"{i} {name}";
    }
}
