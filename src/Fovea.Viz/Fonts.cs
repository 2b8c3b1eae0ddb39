using SkiaSharp;

namespace Fovea.Viz;

/// <summary>
/// Finds a typeface for labels. SkiaSharp's Linux "NoDependencies" build has no fontconfig, so the usual family
/// lookup may find nothing; then the DejaVu (Debian: fonts-dejavu-core) or Liberation files are loaded directly.
/// </summary>
internal static class Fonts
{
    private static readonly string[] Files =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];

    public static SKTypeface Typeface()
    {
        var byName = SKTypeface.FromFamilyName("DejaVu Sans");
        if (byName is not null && byName.FamilyName.Contains("DejaVu", StringComparison.OrdinalIgnoreCase)) return byName;
        foreach (var f in Files)
            if (File.Exists(f) && SKTypeface.FromFile(f) is { } t) return t;
        return byName ?? SKTypeface.Default;
    }
}
