using ILGPU;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Inverted dropout's mask from a counter-based hash (SplitMix64 of seed + index), so every thread draws its own
/// number without shared state. Masks are reproducible per seed on this backend, but not the CPU backend's bits
/// (that one uses System.Random's sequence).
/// </summary>
internal static class DropoutKernels
{
    public static void Mask(Index1D i, ArrayView<float> mask, ulong seed, float p)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * ((ulong)i.X + 1UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        // The top 24 bits make a float uniform in [0, 1) exactly.
        float u = (z >> 40) * (1f / 16777216f);
        mask[i] = u >= p ? 1f / (1f - p) : 0f;
    }
}
