using Fovea.Backends.Cpu;

namespace Fovea;

/// <summary>
/// A step (forward, loss, backward) run once while its kernel calls are recorded, then replayed: the same kernels
/// on the same buffers, without the autograd tape, the tensors and closures that made them, or the layers' shape
/// checks. A warm replay allocates nothing on the managed heap, as the training loop should not. PyTorch's
/// torch.cuda.CUDAGraph works the same way, with the same rules:
/// <list type="bullet">
/// <item>Inputs are tensors made before the capture; write the next batch into them (<see cref="Tensor.CopyFrom"/>)
/// before each replay. A tensor made inside the step is fixed at its captured value.</item>
/// <item>Tensors made inside the step (the loss, the logits) keep their buffers, which each replay writes again;
/// read them after <see cref="Replay"/>. Reading a value on the host inside the step is refused.</item>
/// <item>Each replay computes the parameters' gradients afresh, as after ZeroGrad, and sets their Grad.</item>
/// <item>The optimiser's step stays outside, where its learning rate and step count may change.</item>
/// <item>Dropout draws a new mask from its generator on each replay. Shapes are fixed: another batch size needs
/// another capture.</item>
/// <item>CPU only, and only the calls made on the capturing thread are recorded.</item>
/// </list>
/// </summary>
public sealed class CapturedStep
{
    [ThreadStatic] private static StepRecorder? t_recorder;
    [ThreadStatic] private static List<Tensor>? t_leaves;

    private readonly Action[] _calls;
    private readonly (Tensor Leaf, Tensor Grad)[] _grads;

    private CapturedStep(Action[] calls, (Tensor, Tensor)[] grads)
    {
        _calls = calls;
        _grads = grads;
    }

    /// <summary>Kernel calls a replay makes.</summary>
    public int Calls => _calls.Length;

    /// <summary>
    /// Runs <paramref name="step"/> once, as an eager step, recording its kernel calls. The buffers it is lent are the
    /// capture's for as long as it lives.
    /// </summary>
    public static CapturedStep Capture(Action step)
    {
        if (t_recorder is not null) throw new InvalidOperationException("a step is already being captured on this thread; captures do not nest");
        var recorder = new StepRecorder(CpuBackend.Instance);
        var leaves = new List<Tensor>();
        using (StepMemory.BeginOwn())
        {
            (t_recorder, t_leaves) = (recorder, leaves);
            try { step(); }
            finally { (t_recorder, t_leaves) = (null, null); }
        }
        var grads = leaves.Where(l => l.Grad is not null).Select(l => (l, l.Grad!)).ToArray();
        return new CapturedStep(recorder.Calls, grads);
    }

    /// <summary>Runs the captured kernels again, then sets each parameter's Grad to the gradient they computed.</summary>
    public void Replay()
    {
        using (CpuParallel.HoldWorkers())
            foreach (var call in _calls) call();
        foreach (var (leaf, grad) in _grads)
        {
            leaf.Grad = grad;
            leaf.SpareGrad = null;
        }
    }

    /// <summary>Whether a step is being captured on this thread.</summary>
    internal static bool IsCapturing => t_recorder is not null;

    /// <summary>The backend a tensor's ops use on this thread: the recorder while a step is captured.</summary>
    internal static IBackend Intercept(IBackend backend)
    {
        if (t_recorder is not { } recorder) return backend;
        if (backend is not CpuBackend)
            throw new NotSupportedException($"only CPU steps can be captured; this one uses the {backend.Name} backend");
        return recorder;
    }

    /// <summary>Tells a capture that a leaf's gradient was started in this step, so that replays set it.</summary>
    internal static void NoteLeafGradient(Tensor leaf) => t_leaves?.Add(leaf);
}
