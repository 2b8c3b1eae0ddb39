namespace Fovea;

/// <summary>
/// Turns recording off for the current thread while it is in scope, for inference and for the backward
/// pass itself: <c>using (Autograd.NoGrad()) { ... }</c>.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabled;

    /// <summary>True when ops record their backward.</summary>
    public static bool IsEnabled => _disabled == 0;

    /// <summary>A scope in which no op is recorded.</summary>
    public static NoGradScope NoGrad() => new();

    /// <summary>Restores recording when disposed.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        public NoGradScope() => _disabled++;
        public void Dispose() => _disabled--;
    }
}
