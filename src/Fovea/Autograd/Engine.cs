namespace Fovea.Autograd;

/// <summary>Reverse-mode differentiation over the recorded graph.</summary>
internal static class Engine
{
    [ThreadStatic] private static Tensor? _spare;
    [ThreadStatic] private static Workspace? _workspace;

    /// <summary>
    /// Inside a backward closure: whether <paramref name="g"/>, the gradient it was given, is the engine's alone, lent
    /// during this backward and read by nothing else, so the closure may write its input's gradient over it.
    /// </summary>
    public static bool IsSpare(Tensor g) => ReferenceEquals(g, _spare);

    [ThreadStatic] private static Workspace? _running;

    /// <summary>
    /// Inside a backward closure, for one of its own inputs whose values it has finished reading: takes the input's
    /// buffer for the input's gradient, when that buffer is an activation only the graph holds
    /// (<see cref="StepMemory.MarkTransient"/>), the closure's node is the last left to read it, and the gradient has
    /// the input's shape. The buffer then counts as a gradient made in this backward (given back once its consumers
    /// have read it) instead of an activation. The caller must overwrite all of it. A convolution's data gradient and
    /// a pooling's input gradient go this way, so a VGG block's backward needs no buffers beyond its forward's.
    /// </summary>
    public static bool TryAdopt(Tensor input) =>
        _running is { } w && input.IsContiguous && input.Offset == 0 && input.Storage is CpuStorage { DType: DType.Float32 } s
        && s.Length == input.NumEl && w.Transient.TryAdopt(s, w.Spent);

    public static void Backward(Tensor root, Tensor? gradient)
    {
        // A backward called from inside another's closure takes a workspace of its own.
        var w = _workspace ?? new Workspace();
        _workspace = null;
        var outer = _running;
        _running = w;
        try { Backward(root, gradient, w); }
        finally
        {
            _running = outer;
            w.Clear();
            _workspace = w;
        }
    }

    private static void Backward(Tensor root, Tensor? gradient, Workspace w)
    {
        if (root.GraphFreed) throw Freed();
        if (root.GradFn is null && !root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require grad and was not made by a recorded op");
        // Buffers the step pool lends from here on are this backward's own: only those may go back early.
        int mark = StepMemory.FloatMark;
        if (gradient is null)
        {
            if (root.NumEl != 1)
                throw new ArgumentException($"Backward() without a gradient needs a scalar, got shape {root.ShapeString}");
            gradient = Tensor.Ones(root.Shape, root.Device);
        }
        else if (!Shapes.Equal(gradient.ShapeSpan, root.ShapeSpan))
            throw new ArgumentException($"gradient shape {gradient.ShapeString} does not match tensor shape {root.ShapeString}");

        // Topological order by depth-first search from the root; visit each node once.
        var (order, seen, stack) = (w.Order, w.Seen, w.Stack);
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            var node = t.GradFn;
            if (node is null) continue;
            if (expanded) { order.Add(t); continue; }
            if (!seen.Add(node)) continue;
            stack.Push((t, true));
            foreach (var input in node.Inputs)
                if (input.GradFn is not null && !seen.Contains(input.GradFn)) stack.Push((input, false));
        }

        var grads = w.Grads;
        grads[root] = gradient;
        var spent = w.Spent;
        spent.Begin(mark, gradient);
        var transient = w.Transient.Count(order) ? w.Transient : null;
        using (GradMode.NoGrad())
        {
            if (root.GradFn is null) { Accumulate(root, gradient); return; }
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                var node = t.GradFn!;
                if (!grads.Remove(t, out var g))
                {
                    transient?.Ran(t, node, spent);
                    node.Release();
                    t.GradFn = null;
                    t.GraphFreed = true;
                    continue;
                }
                var fn = node.BackwardFn ?? throw new InvalidOperationException(
                    $"the graph through '{node.Op}' was already freed by an earlier Backward()");
                _spare = spent.IsSpare(g) ? g : null;
                Tensor?[] inputGrads;
                try { inputGrads = fn(g); }
                finally { _spare = null; }
                spent.Consumed(g);
                var inputs = node.Inputs;
                for (int k = 0; k < inputs.Length; k++)
                {
                    var ig = inputGrads[k];
                    var input = inputs[k];
                    if (ig is null) continue;
                    if (!input.RequiresGrad && input.GradFn is null)
                    {
                        spent.Unused(ig);
                        continue;
                    }
                    if (input.GraphFreed) throw Freed();
                    if (input.GradFn is null)
                    {
                        Accumulate(input, ig);
                        spent.Unused(ig);
                    }
                    else if (grads.TryGetValue(input, out var existing))
                    {
                        var sum = existing.Add(ig);
                        spent.Pending(sum);
                        spent.Consumed(existing);
                        spent.Unused(ig);
                        grads[input] = sum;
                    }
                    else
                    {
                        spent.Pending(ig);
                        grads[input] = ig;
                    }
                }
                spent.ReturnFree();
                transient?.Ran(t, node, spent);
                // Free the closure and its saved tensors: the tape is spent.
                node.Release();
                t.GradFn = null;
                t.GraphFreed = true;
            }
        }
    }

    /// <summary>
    /// Gives the step pool back each gradient buffer once every consumer has read it, so that a backward holds a few
    /// layers' gradients at a time rather than all of them until the step ends (VGG-16 at batch 4: about 0.9 GiB).
    /// A buffer qualifies only if the step pool lent it during this backward (so nothing made before, such as an
    /// activation or a parameter, can be returned), it is not the caller's root gradient, and no gradient still
    /// waiting for its consumer (which may be a view of it) shares its storage.
    /// </summary>
    private sealed class SpentGradients
    {
        private readonly Dictionary<Storage, int> _pending = new(ReferenceEqualityComparer.Instance);
        private readonly List<Storage> _candidates = [];
        private readonly HashSet<Storage> _returned = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Storage> _adopted = new(ReferenceEqualityComparer.Instance);
        private int _mark;
        private Tensor? _root;

        public void Begin(int mark, Tensor rootGradient) => (_mark, _root) = (mark, rootGradient);

        public void Clear()
        {
            _pending.Clear();
            _candidates.Clear();
            _returned.Clear();
            _adopted.Clear();
            _root = null;
        }

        /// <summary>An activation's buffer now holds a gradient made in this backward (<see cref="TryAdopt"/>).</summary>
        public void Adopt(Storage s) => _adopted.Add(s);

        /// <summary>A gradient now waits in the engine's table for its consumer.</summary>
        public void Pending(Tensor g) => _pending[g.Storage] = _pending.GetValueOrDefault(g.Storage) + 1;

        /// <summary>A gradient left the table and its consumer has run.</summary>
        public void Consumed(Tensor g)
        {
            if (_pending.TryGetValue(g.Storage, out int n))
            {
                if (n > 1) _pending[g.Storage] = n - 1;
                else _pending.Remove(g.Storage);
            }
            _candidates.Add(g.Storage);
        }

        /// <summary>
        /// Whether <paramref name="g"/>, just taken from the table, is the only gradient in its buffer and the step pool
        /// lent that buffer during this backward (so it is neither the caller's seed nor anything made before).
        /// </summary>
        public bool IsSpare(Tensor g) =>
            g.Storage is CpuStorage { DType: DType.Float32 } cpu && _pending.GetValueOrDefault(g.Storage) == 1
            && !ReferenceEquals(g.Storage, _root!.Storage) && (_adopted.Contains(cpu) || StepMemory.LentSince(cpu.Floats, _mark));

        /// <summary>Whether a gradient waiting in the table lives in <paramref name="s"/>.</summary>
        public bool IsPending(Storage s) => _pending.ContainsKey(s);

        /// <summary>A gradient that was copied into a leaf, added into another, or is wanted by no one.</summary>
        public void Unused(Tensor g) => _candidates.Add(g.Storage);

        public void ReturnFree()
        {
            foreach (var s in _candidates)
                if (s is CpuStorage { DType: DType.Float32 } cpu && !_pending.ContainsKey(s)
                    && !ReferenceEquals(s, _root!.Storage) && _returned.Add(s))
                    StepMemory.ReturnEarly(cpu.Floats, _adopted.Contains(cpu) ? 0 : _mark);
            _candidates.Clear();
        }
    }

    /// <summary>
    /// Counts, for each buffer marked transient (<see cref="StepMemory.MarkTransient"/>), the backwards still to run that
    /// may read it: every node with an input on it, and the node that made it when that node's backward reads its output.
    /// When the count reaches zero the buffer goes back to the step's pool, so the backward no longer holds the whole
    /// forward until the step ends (VGG-16 at batch 4: the later blocks' activations while the first block's run).
    /// </summary>
    private sealed class TransientReaders
    {
        private readonly Dictionary<Storage, int> _readers = new(ReferenceEqualityComparer.Instance);

        /// <summary>Counts the readers over the backward's nodes; false when no node reads a transient buffer.</summary>
        public bool Count(List<Tensor> order)
        {
            foreach (var t in order)
            {
                var node = t.GradFn!;
                if (node.ReadsInputs)
                    foreach (var input in node.Inputs)
                        if (StepMemory.IsTransient(input.Storage)) Read(input.Storage);
                if (node.ReadsOutput && StepMemory.IsTransient(t.Storage)) Read(t.Storage);
            }
            return _readers.Count > 0;
        }

        public void Clear() => _readers.Clear();

        /// <summary><paramref name="node"/>'s backward has run (or was skipped): it reads nothing any more.</summary>
        public void Ran(Tensor output, Node node, SpentGradients spent)
        {
            foreach (var input in node.Inputs)
                if (node.ReadsInputs) Done(input.Storage, spent);
                else Unread(input.Storage, spent);
            if (node.ReadsOutput) Done(output.Storage, spent);
            else Unread(output.Storage, spent);
        }

        // A buffer the node holds but does not read (a ReLU's input, kept as a mask): it goes back now if no node left
        // to run reads it either, since none counted it.
        private void Unread(Storage s, SpentGradients spent)
        {
            if (!_readers.ContainsKey(s) && StepMemory.IsTransient(s) && !spent.IsPending(s)) StepMemory.ReleaseTransient(s);
        }

        private void Read(Storage s) => _readers[s] = _readers.GetValueOrDefault(s) + 1;

        /// <summary>Hands <paramref name="s"/> over to the gradients when the running node is its last reader (<see cref="Engine.TryAdopt"/>).</summary>
        public bool TryAdopt(Storage s, SpentGradients spent)
        {
            if (_readers.GetValueOrDefault(s) != 1 || spent.IsPending(s) || !StepMemory.IsTransient(s)) return false;
            _readers.Remove(s);
            StepMemory.Unmark(s);
            spent.Adopt(s);
            return true;
        }

        private void Done(Storage s, SpentGradients spent)
        {
            if (!_readers.TryGetValue(s, out int n)) return;
            if (n > 1)
            {
                _readers[s] = n - 1;
                return;
            }
            _readers.Remove(s);
            // A gradient waiting in the table never shares an activation's buffer; refuse to give one back if it did.
            if (!spent.IsPending(s)) StepMemory.ReleaseTransient(s);
        }
    }

    /// <summary>
    /// The collections one backward uses, kept per thread and cleared (dropping every reference into the graph) for the
    /// next, so that a steady training loop does not make them anew each step.
    /// </summary>
    private sealed class Workspace
    {
        public readonly List<Tensor> Order = [];
        public readonly HashSet<Node> Seen = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Tensor T, bool Expanded)> Stack = new();
        public readonly Dictionary<Tensor, Tensor> Grads = new(ReferenceEqualityComparer.Instance);
        public readonly SpentGradients Spent = new();
        public readonly TransientReaders Transient = new();

        public void Clear()
        {
            Order.Clear();
            Seen.Clear();
            Stack.Clear();
            Grads.Clear();
            Spent.Clear();
            Transient.Clear();
        }
    }

    private static InvalidOperationException Freed() => new(
        "Backward() through a graph that an earlier Backward() already freed: compute the value again (Fovea keeps no graph after backward)");

    private static void Accumulate(Tensor leaf, Tensor g)
    {
        if (!leaf.RequiresGrad) return;
        // A backward may hand the same tensor to several inputs, so the leaf gets its own copy to accumulate into.
        // The gradient outlives the step that computed it (the optimiser reads it after), so it is never pooled.
        // The first gradient takes the buffer ClearGrad kept, as a layer that writes its own does (LeafGrad).
        using var _ = StepMemory.Persistent();
        if (leaf.Grad is not null) leaf.Grad.AddInPlace(g);
        else LeafGrad.Overwrite(leaf)!.CopyFrom(g);
    }
}
