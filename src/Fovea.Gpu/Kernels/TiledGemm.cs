using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Reads element (row, k) of the left matrix of batch item <c>z</c>. A thread loads four rows at one k, so what k's
/// part of the address needs (for a convolution's gradients, a division) is worked out once, by <see cref="Seek"/>,
/// for the four.
/// </summary>
internal interface ILeftOperand
{
    /// <summary>Moves to column k of batch item z; <see cref="Load"/> reads in that column.</summary>
    void Seek(int z, int k);

    float Load(int row);
}

/// <summary>
/// Reads element (k, col) of the right matrix of batch item <c>z</c>. A thread loads the same columns at every step
/// along k, so what a column's address needs (for a convolution, the image and position it stands for: two
/// divisions) is worked out once, by <see cref="Column"/>, outside the loop; and it loads four columns at one k, so
/// what k's part needs (for a convolution, the tap's channel and offsets: three divisions) is worked out once per
/// step, by <see cref="Seek"/>.
/// </summary>
internal interface IRightOperand<TColumn> where TColumn : struct
{
    TColumn Column(int z, int col);

    /// <summary>Moves to row k of batch item z; <see cref="Load"/> reads in that row.</summary>
    void Seek(int z, int k);

    float Load(TColumn column);
}

/// <summary>Writes the finished dot product of (row, col) of batch item <c>z</c>, or adds a part of it.</summary>
internal interface IGemmOutput
{
    void Store(int z, int row, int col, float value);

    /// <summary>Adds one split's share of the dot product (atomically: other splits add to the same cell).</summary>
    void Add(int z, int row, int col, float value);
}

/// <summary>
/// The side T of a group of T x T threads, as a type: each side compiles to its own kernel with T a constant, so the
/// shared-memory offsets of a step (multiples of T) are immediates rather than products worked out at every read.
/// </summary>
internal interface ITileSide
{
    int T { get; }
}

/// <summary>CUDA's tiles: 16 x 16 threads, a block of 256.</summary>
internal readonly struct Side16 : ITileSide
{
    public int T => 16;
}

/// <summary>Tiles the conformance suite runs on the CPU accelerator, to keep the sharing between threads under test.</summary>
internal readonly struct Side4 : ITileSide
{
    public int T => 4;
}

/// <summary>The CPU accelerator's one-thread groups.</summary>
internal readonly struct Side1 : ITileSide
{
    public int T => 1;
}

/// <summary>
/// C[z] = A[z] · B[z], a block of (4T) x (4T) outputs per group of T x T threads, each thread holding a 4 x 4 block
/// of them in registers: per step of T along k, the group stages a (4T) x T panel of A and a T x (4T) panel of B in
/// shared memory, and each thread does 16 multiply-adds for every 8 values it reads from shared memory (a thread per
/// output, as a plain tiled kernel has it, does one per two). A thread's four rows and four columns are adjacent, so
/// those 8 values come in two 16-byte reads. T = 16 on CUDA (64 x 64 blocks); the CPU accelerator runs T = 1, a
/// thread per 4 x 4 block (<see cref="ITileSide"/>).
/// <para>
/// When the output has few blocks but k is long (a filter gradient sums over every image and position; the last VGG
/// layers at batch 1 have 32 blocks for 132 multiprocessors), the launch splits k: grid z runs over batch x splits,
/// each split sums its own range of k and adds it to the output, which the caller has zeroed.
/// </para>
/// The operands are structs, so the same kernel is a plain GEMM, or — with operands that compute im2col addresses on
/// the fly — an implicit-GEMM convolution that never writes the unfolded matrix to memory.
/// </summary>
internal static class TiledGemm
{
    /// <summary>Outputs per thread along each side of its block.</summary>
    public const int PerThread = 4;

    // Grid (ceil(n/4T), ceil(m/4T), batch·splits), group (T, T) with T = TSide's; dynamic shared memory SharedFloats(T).
    // Split s of item z sums k in [s·kChunk, (s+1)·kChunk); kChunk is a multiple of T.
    public static void Kernel<TSide, TA, TB, TColumn, TC>(TA a, TB b, TC c, int m, int n, int k, int splits, int kChunk)
        where TSide : struct, ITileSide where TA : struct, ILeftOperand where TB : struct, IRightOperand<TColumn> where TColumn : struct
        where TC : struct, IGemmOutput
    {
        var tiles = SharedMemory.GetDynamic<float>();
        int t = default(TSide).T, tx = Group.IdxX, ty = Group.IdxY;
        int z = Grid.IdxZ / splits, split = Grid.IdxZ % splits;
        int side = PerThread * t, row0 = Grid.IdxY * side, col0 = Grid.IdxX * side;
        // The A panel is stored k-major, each k's row padded by four floats: the rows stay 16-byte aligned for the quad
        // reads, and the T threads staging one k column fall two to a bank (unpadded, all T would share one).
        int aStride = side + 4, bBase = t * aStride;
        int kBegin = split * kChunk, kEnd = XMath.Min(k, kBegin + kChunk);
        // Thread (tx, ty) stages A[rows ty + T·i, k0 + tx] and B[k0 + ty, cols tx + T·j]: neighbouring threads read
        // neighbouring k of A and neighbouring columns of B, and each thread's four columns stay the same along k.
        int c0 = col0 + tx, ra = row0 + ty;
        var b0 = b.Column(z, c0);
        var b1 = b.Column(z, c0 + t);
        var b2 = b.Column(z, c0 + 2 * t);
        var b3 = b.Column(z, c0 + 3 * t);
        bool in0 = c0 < n, in1 = c0 + t < n, in2 = c0 + 2 * t < n, in3 = c0 + 3 * t < n;
        bool rin0 = ra < m, rin1 = ra + t < m, rin2 = ra + 2 * t < m, rin3 = ra + 3 * t < m;
        int ka = kBegin + tx, kb = kBegin + ty;
        a.Seek(z, ka);
        bool inK = ka < kEnd;
        float pa0 = inK && rin0 ? a.Load(ra) : 0f, pa1 = inK && rin1 ? a.Load(ra + t) : 0f;
        float pa2 = inK && rin2 ? a.Load(ra + 2 * t) : 0f, pa3 = inK && rin3 ? a.Load(ra + 3 * t) : 0f;
        b.Seek(z, kb);
        inK = kb < kEnd;
        float pb0 = inK && in0 ? b.Load(b0) : 0f, pb1 = inK && in1 ? b.Load(b1) : 0f;
        float pb2 = inK && in2 ? b.Load(b2) : 0f, pb3 = inK && in3 ? b.Load(b3) : 0f;
        int aAt = tx * aStride + ty, bAt = bBase + ty * side + tx;
        // Thread (tx, ty) computes rows 4ty..4ty+3 and columns 4tx..4tx+3 of the block: at each k its four values of A
        // are adjacent in the A panel, and its four of B in the B panel, one 16-byte read each (ILGPU aligns the
        // shared memory to the 16-byte Quad, and both panels' rows start on multiples of four floats).
        var quads = tiles.Cast<Quad>();
        var aQuads = quads.SubView(ty, t * aStride / 4 - ty);
        var bQuads = quads.SubView(bBase / 4 + tx, t * side / 4 - tx);
        var acc = default(Block4x4);
        for (int k0 = kBegin; k0 < kEnd; k0 += t)
        {
            tiles[aAt] = pa0;
            tiles[aAt + t] = pa1;
            tiles[aAt + 2 * t] = pa2;
            tiles[aAt + 3 * t] = pa3;
            tiles[bAt] = pb0;
            tiles[bAt + t] = pb1;
            tiles[bAt + 2 * t] = pb2;
            tiles[bAt + 3 * t] = pb3;
            Group.Barrier();
            // The next step's values are fetched into registers while this step multiplies, hiding the loads' latency.
            if (k0 + t < kEnd)
            {
                ka += t;
                kb += t;
                a.Seek(z, ka);
                inK = ka < kEnd;
                pa0 = inK && rin0 ? a.Load(ra) : 0f;
                pa1 = inK && rin1 ? a.Load(ra + t) : 0f;
                pa2 = inK && rin2 ? a.Load(ra + 2 * t) : 0f;
                pa3 = inK && rin3 ? a.Load(ra + 3 * t) : 0f;
                b.Seek(z, kb);
                inK = kb < kEnd;
                pb0 = inK && in0 ? b.Load(b0) : 0f;
                pb1 = inK && in1 ? b.Load(b1) : 0f;
                pb2 = inK && in2 ? b.Load(b2) : 0f;
                pb3 = inK && in3 ? b.Load(b3) : 0f;
            }
            for (int kk = 0; kk < t; kk++)
            {
                var a4 = aQuads[kk * (aStride / 4)];
                var b4 = bQuads[kk * (side / 4)];
                acc.Add(a4.X, a4.Y, a4.Z, a4.W, b4.X, b4.Y, b4.Z, b4.W);
            }
            Group.Barrier();
        }
        acc.Write(c, z, row0 + PerThread * ty, col0 + PerThread * tx, m, n, splits > 1);
    }

    /// <summary>Floats of shared memory a group of T x T threads takes: the padded A panel and the B panel.</summary>
    public static int SharedFloats(int t) => t * (PerThread * t + 4) + t * PerThread * t;
}

/// <summary>Four adjacent floats of shared memory, read as one (a 16-byte load where they are 16-byte aligned).</summary>
internal struct Quad
{
    public float X, Y, Z, W;
}

/// <summary>
/// A thread's 4 x 4 outputs, as named fields so that they stay in registers (an array would live in local memory).
/// Row i, column j of the block is output (r0 + i, c0 + j).
/// </summary>
internal struct Block4x4
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
    }

    public readonly void Write<TC>(TC c, int z, int r0, int c0, int m, int n, bool add) where TC : struct, IGemmOutput
    {
        PutRow(c, z, r0, c0, m, n, add, C00, C01, C02, C03);
        PutRow(c, z, r0 + 1, c0, m, n, add, C10, C11, C12, C13);
        PutRow(c, z, r0 + 2, c0, m, n, add, C20, C21, C22, C23);
        PutRow(c, z, r0 + 3, c0, m, n, add, C30, C31, C32, C33);
    }

    private static void PutRow<TC>(TC c, int z, int row, int c0, int m, int n, bool add, float v0, float v1, float v2, float v3)
        where TC : struct, IGemmOutput
    {
        if (row >= m) return;
        Put(c, z, row, c0, n, add, v0);
        Put(c, z, row, c0 + 1, n, add, v1);
        Put(c, z, row, c0 + 2, n, add, v2);
        Put(c, z, row, c0 + 3, n, add, v3);
    }

    private static void Put<TC>(TC c, int z, int row, int col, int n, bool add, float value) where TC : struct, IGemmOutput
    {
        if (col >= n) return;
        if (add) c.Add(z, row, col, value);
        else c.Store(z, row, col, value);
    }
}

/// <summary>A row-major matrix (or its transpose) at an offset, with a leading dimension and a batch stride.</summary>
internal struct DenseLeft : ILeftOperand
{
    public ArrayView<float> Data;
    public int Offset, Ld, BatchStride, Transposed;
    private int _column;

    public void Seek(int z, int k) => _column = Offset + z * BatchStride + (Transposed != 0 ? k * Ld : k);

    public readonly float Load(int row) => Data[_column + (Transposed != 0 ? row : row * Ld)];
}

/// <summary>The right-hand counterpart of <see cref="DenseLeft"/>; a column is its index.</summary>
internal struct DenseRight : IRightOperand<int>
{
    public ArrayView<float> Data;
    public int Offset, Ld, BatchStride, Transposed;

    private int _row;

    public readonly int Column(int z, int col) => col;

    public void Seek(int z, int k) => _row = Offset + z * BatchStride + (Transposed != 0 ? k : k * Ld);

    public readonly float Load(int col) => Data[_row + (Transposed != 0 ? col * Ld : col)];
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

    // Split sums are only launched with beta = 0 into a cleared C.
    public readonly void Add(int z, int row, int col, float value) => Atomic.Add(ref Data[Offset + z * BatchStride + row * Ld + col], value);
}
