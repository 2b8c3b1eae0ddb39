using ILGPU;

namespace Fovea.Gpu.Kernels;

/// <summary>Reads element (row, k) of the left matrix of batch item <c>z</c>.</summary>
internal interface ILeftOperand
{
    float Load(int z, int row, int k);
}

/// <summary>Reads element (k, col) of the right matrix of batch item <c>z</c>.</summary>
internal interface IRightOperand
{
    float Load(int z, int k, int col);
}

/// <summary>Writes the finished dot product of (row, col) of batch item <c>z</c>.</summary>
internal interface IGemmOutput
{
    void Store(int z, int row, int col, float value);
}

/// <summary>
/// C[z] = A[z] · B[z] with square T x T tiles of A and B staged in shared memory (T = the group's width, so the
/// tile fits the device: 16 on CUDA, smaller on the CPU accelerator). The operands are structs, so the same kernel
/// is a plain GEMM, or — with operands that compute im2col addresses on the fly — an implicit-GEMM convolution that
/// never writes the unfolded matrix to memory.
/// </summary>
internal static class TiledGemm
{
    // Grid (ceil(n/T), ceil(m/T), batch), group (T, T); dynamic shared memory 2·T·T floats.
    public static void Kernel<TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k)
        where TA : struct, ILeftOperand where TB : struct, IRightOperand where TC : struct, IGemmOutput
    {
        var tiles = SharedMemory.GetDynamic<float>();
        int t = Group.DimX, tx = Group.IdxX, ty = Group.IdxY, z = Grid.IdxZ;
        int row = Grid.IdxY * t + ty, col = Grid.IdxX * t + tx, bBase = t * t;
        float acc = 0f;
        for (int k0 = 0; k0 < k; k0 += t)
        {
            // Thread (tx, ty) stages A[row, k0 + tx] and B[k0 + ty, col]: neighbouring threads read neighbouring k or col.
            tiles[ty * t + tx] = row < m && k0 + tx < k ? a.Load(z, row, k0 + tx) : 0f;
            tiles[bBase + ty * t + tx] = k0 + ty < k && col < n ? b.Load(z, k0 + ty, col) : 0f;
            Group.Barrier();
            for (int kk = 0; kk < t; kk++) acc += tiles[ty * t + kk] * tiles[bBase + kk * t + tx];
            Group.Barrier();
        }
        if (row < m && col < n) c.Store(z, row, col, acc);
    }
}

/// <summary>A row-major matrix (or its transpose) at an offset, with a leading dimension and a batch stride.</summary>
internal struct DenseLeft : ILeftOperand
{
    public ArrayView<float> Data;
    public int Offset, Ld, BatchStride, Transposed;

    public readonly float Load(int z, int row, int k) =>
        Data[Offset + z * BatchStride + (Transposed != 0 ? k * Ld + row : row * Ld + k)];
}

/// <summary>The right-hand counterpart of <see cref="DenseLeft"/>.</summary>
internal struct DenseRight : IRightOperand
{
    public ArrayView<float> Data;
    public int Offset, Ld, BatchStride, Transposed;

    public readonly float Load(int z, int k, int col) =>
        Data[Offset + z * BatchStride + (Transposed != 0 ? col * Ld + k : k * Ld + col)];
}

/// <summary>C = A·B + beta·C; beta = 0 never reads C, so whatever it held (even NaN) is ignored, as in BLAS.</summary>
internal struct DenseOutput : IGemmOutput
{
    public ArrayView<float> Data;
    public int Offset, Ld, BatchStride;
    public float Beta;

    public readonly void Store(int z, int row, int col, float value)
    {
        int at = Offset + z * BatchStride + row * Ld + col;
        Data[at] = Beta == 0f ? value : value + Beta * Data[at];
    }
}
