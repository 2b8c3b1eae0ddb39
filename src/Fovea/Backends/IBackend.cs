namespace Fovea;

/// <summary>Element-wise functions of one input. Alpha is LeakyReLU's slope, Pow's exponent, or the scalar of the *Scalar ops.</summary>
public enum UnaryOp { Neg, Exp, Log, Sqrt, Abs, Relu, LeakyRelu, Sigmoid, Tanh, Square, Reciprocal, AddScalar, MulScalar, PowScalar }

/// <summary>Element-wise functions of two broadcast inputs.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Max, Min }

/// <summary>Reductions over one axis.</summary>
public enum ReduceOp { Sum, Mean, Max, Min }

/// <summary>Pooling windows' reductions.</summary>
public enum PoolKind { Max, Average, Sum }

/// <summary>How a convolution is computed; all give the same result up to float rounding.</summary>
public enum ConvAlgorithm
{
    /// <summary>Let the backend pick per shape.</summary>
    Auto,
    /// <summary>The sum of products, loop by loop.</summary>
    Direct,
    /// <summary>Unfold patches into a matrix (im2col), then one matrix product.</summary>
    Im2colGemm,
    /// <summary>The convolution theorem: multiply spectra (stride 1, no dilation, one group).</summary>
    Fft,
    /// <summary>Winograd's minimal filtering for 3x3, stride 1.</summary>
    Winograd,
}

/// <summary>
/// What a device must implement. Kernels see storages and geometry, never tensors, so the autograd front
/// is the same on every device. Unless a parameter carries strides, every storage is dense row-major from
/// element 0 (the front makes it so). Outputs are overwritten, except where a name says Accumulate.
/// </summary>
public interface IBackend
{
    string Name { get; }

    // Memory
    /// <summary>A zero-filled buffer.</summary>
    Storage Allocate(DType dtype, int length);
    /// <summary>
    /// A buffer whose values are whatever it last held (torch.empty), for an output that a kernel overwrites whole:
    /// the zero fill of <see cref="Allocate"/> would be a pass over memory on one thread, for nothing.
    /// </summary>
    Storage AllocateUninitialized(DType dtype, int length);
    Storage FromHost(float[] data);
    Storage FromHost(long[] data);
    void ToHost(Storage source, int offset, Span<float> destination);
    void ToHost(Storage source, int offset, Span<long> destination);
    void Fill(Storage destination, float value);

    /// <summary>Gathers a strided view (any rank) into a dense buffer.</summary>
    void CopyStrided(Storage source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Storage destination, int destinationOffset);

    /// <summary>The inverse of <see cref="CopyStrided"/>: writes a dense buffer into a strided view.</summary>
    void ScatterStrided(Storage source, ReadOnlySpan<int> shape, Storage destination, int offset, ReadOnlySpan<int> strides);

    // Element-wise
    void Unary(UnaryOp op, Storage x, Storage y, int n, float alpha);

    /// <summary>dx = dy · f'(x); x is the op's input, y its output (each function uses whichever is cheaper).</summary>
    void UnaryBackward(UnaryOp op, Storage x, Storage y, Storage dy, Storage dx, int n, float alpha);

    /// <summary>
    /// y = ReLU(x) (NaN stays NaN; y may be x) and an int64 mask of y &gt; 0, bit j of word w for element 64·w + j:
    /// what the ReLU's backward reads instead of the output, so that the output's buffer can be given back early.
    /// </summary>
    void ReluMasked(Storage x, Storage y, Storage mask, int n);

    /// <summary>dx = dy where <see cref="ReluMasked"/>'s mask bit is set, else 0; dx may be dy.</summary>
    void ReluMaskedBackward(Storage mask, Storage dy, Storage dx, int n);

    /// <summary>y[i] = a[i] op b[i] over <paramref name="shape"/>, reading a and b through broadcast strides (0 on broadcast dims).</summary>
    void Binary(BinaryOp op, Storage a, int aOffset, ReadOnlySpan<int> aStrides, Storage b, int bOffset, ReadOnlySpan<int> bStrides,
        ReadOnlySpan<int> shape, Storage y);

    /// <summary>y += alpha · x over n elements (gradient accumulation).</summary>
    void Axpy(float alpha, Storage x, Storage y, int n);

    // Reductions: x viewed as [outer, dim, inner], reduced over dim into y [outer, inner].
    void Reduce(ReduceOp op, Storage x, int outer, int dim, int inner, Storage y);
    void ArgMax(Storage x, int outer, int dim, int inner, Storage indices);

    /// <summary>torch.gather along dim: y[o, j, i] = x[o, index[o, j, i], i], with index and y of shape [outer, count, inner].</summary>
    void Gather(Storage x, int outer, int dim, int inner, Storage index, int count, Storage y);

    /// <summary>dx[o, index[...], in] += dy[o, i, in]: the adjoint of <see cref="Gather"/>.</summary>
    void ScatterAddAccumulate(Storage dy, int outer, int dim, int inner, Storage index, int count, Storage dx);

    // Linear algebra
    /// <summary>
    /// C[b] = op(A[b]) · op(B[b]) + beta · C[b] for b in [0, batch): row-major with leading dimensions; strideX is the
    /// distance between consecutive batch matrices (0 broadcasts one matrix to all).
    /// </summary>
    void Gemm(bool transA, bool transB, int batch, int m, int n, int k,
        Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB,
        float beta, Storage c, int cOffset, int ldc, int strideC);

    // Convolution (NCHW; 1-D is height 1)
    /// <summary>
    /// y = conv(x, w) + bias, written whole; with <paramref name="relu"/>, max(y, 0) (NaN stays NaN), the ReLU that
    /// follows a layer in inference, fused into the kernel where the kernel can. <paramref name="inference"/> says that
    /// no gradient is recorded for this call, so the same weights are likely to come again: a backend may keep what it
    /// derives from them (the CPU's Winograd keeps its transformed filters) for the next call whose weights are equal.
    /// </summary>
    void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y, bool relu = false, bool inference = false);
    /// <summary>∇ data: dx from dy and the weights.</summary>
    void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx);
    /// <summary>∇ filter: dw (and db, when given) from x and dy.</summary>
    void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias);
    /// <summary>The algorithm <see cref="ConvAlgorithm.Auto"/> would use for this shape.</summary>
    ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g, bool inference = false);

    // Padding and pooling
    void Pad2d(in PadGeometry g, Storage x, Storage y);
    /// <summary>dx = the sum of dy over every output cell each input cell was copied to.</summary>
    void Pad2dBackward(in PadGeometry g, Storage dy, Storage dx);
    void Pool2d(in PoolGeometry g, PoolKind kind, Storage x, Storage y);
    /// <summary>
    /// dx from dy; max pooling finds each window's maximum in x again (PyTorch's rule: the first in row-major order, NaN
    /// wins) instead of keeping int64 indices from the forward, which cost twice the output's bytes for the whole step.
    /// On the CPU backend dx may be x's own storage (the autograd engine lends it when nothing else reads x again);
    /// other backends are never given that.
    /// </summary>
    void Pool2dBackward(in PoolGeometry g, PoolKind kind, Storage x, Storage dy, Storage dx);
    /// <summary>PyTorch's adaptive average pooling: window i spans [floor(i·In/Out), ceil((i+1)·In/Out)).</summary>
    void AdaptiveAvgPool2d(int planes, int inH, int inW, int outH, int outW, Storage x, Storage y);
    void AdaptiveAvgPool2dBackward(int planes, int inH, int inW, int outH, int outW, Storage dy, Storage dx);

    // Normalisation and softmax: x viewed as [outer, dim, inner]
    void Softmax(bool log, Storage x, int outer, int dim, int inner, Storage y);
    /// <summary>dx from the forward output y and dy.</summary>
    void SoftmaxBackward(bool log, Storage y, Storage dy, int outer, int dim, int inner, Storage dx);

    /// <summary>Per-channel mean and biased variance of x [N, C, S].</summary>
    void BatchNormStatistics(Storage x, int n, int c, int s, Storage mean, Storage variance);
    /// <summary>y = (x − mean) · invStd · gamma + beta, per channel.</summary>
    void BatchNormApply(Storage x, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma, Storage? beta, Storage y);
    /// <summary>Training-mode backward (batch statistics): dx, dgamma, dbeta.</summary>
    void BatchNormBackward(Storage x, Storage dy, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma,
        Storage dx, Storage? dgamma, Storage? dbeta);

    /// <summary>AlexNet's LRN across channels: y = x / (k + alpha/size · Σ x²)^beta; scale holds the denominator base.</summary>
    void LocalResponseNorm(Storage x, int n, int c, int s, int size, float alpha, float beta, float k, Storage y, Storage scale);
    void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage dy, int n, int c, int s, int size, float alpha, float beta, Storage dx);

    // Randomness and optimiser updates
    /// <summary>
    /// Fills with 1/(1−p) with probability 1−p, else 0 (inverted dropout's mask), from a seed the call draws from
    /// <paramref name="generator"/>: a replayed step (<see cref="CapturedStep"/>) then draws a new mask each time.
    /// </summary>
    void DropoutMask(Storage mask, int n, float p, Generator generator);

    /// <summary>PyTorch's SGD update for one parameter (momentum buffer may be null when momentum is 0).</summary>
    void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep);

    /// <summary>PyTorch's Adam / AdamW update (decoupled selects AdamW's weight decay).</summary>
    void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step);
}
