using ILGPU;

namespace Fovea.Gpu.Kernels;

/// <summary>A tree sum over one thread group (its width a power of two), through shared memory.</summary>
internal static class GroupSum
{
    /// <summary>The most threads per group of the reduction kernels; their shared memory is sized for it.</summary>
    public const int MaxGroup = 256;

    /// <summary>Every thread passes its partial sum and gets the group's total.</summary>
    public static float Of(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) shared[t] += shared[t + half];
            Group.Barrier();
        }
        float total = shared[0];
        // No thread may overwrite shared[0] for a next sum before all have read this one.
        Group.Barrier();
        return total;
    }
}
