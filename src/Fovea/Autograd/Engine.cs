namespace Fovea.Autograd;

/// <summary>Reverse-mode differentiation over the recorded graph.</summary>
internal static class Engine
{
    public static void Backward(Tensor root, Tensor? gradient)
    {
        if (root.GraphFreed) throw Freed();
        if (root.GradFn is null && !root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require grad and was not made by a recorded op");
        if (gradient is null)
        {
            if (root.NumEl != 1)
                throw new ArgumentException($"Backward() without a gradient needs a scalar, got shape {root.ShapeString}");
            gradient = Tensor.Ones(root.Shape, root.Device);
        }
        else if (!Shapes.Equal(gradient.ShapeSpan, root.ShapeSpan))
            throw new ArgumentException($"gradient shape {gradient.ShapeString} does not match tensor shape {root.ShapeString}");

        // Topological order by depth-first search from the root; visit each node once.
        var order = new List<Tensor>();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor t, bool expanded)>();
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

        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [root] = gradient };
        using (GradMode.NoGrad())
        {
            if (root.GradFn is null) { Accumulate(root, gradient); return; }
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                var node = t.GradFn!;
                if (!grads.Remove(t, out var g)) { node.Release(); t.GradFn = null; t.GraphFreed = true; continue; }
                var fn = node.BackwardFn ?? throw new InvalidOperationException(
                    $"the graph through '{node.Op}' was already freed by an earlier Backward()");
                var inputGrads = fn(g);
                var inputs = node.Inputs;
                for (int k = 0; k < inputs.Length; k++)
                {
                    var ig = inputGrads[k];
                    var input = inputs[k];
                    if (ig is null || !input.RequiresGrad && input.GradFn is null) continue;
                    if (input.GraphFreed) throw Freed();
                    if (input.GradFn is null) Accumulate(input, ig);
                    else if (grads.TryGetValue(input, out var existing)) grads[input] = existing.Add(ig);
                    else grads[input] = ig;
                }
                // Free the closure and its saved tensors: the tape is spent.
                node.Release();
                t.GradFn = null;
                t.GraphFreed = true;
            }
        }
    }

    private static InvalidOperationException Freed() => new(
        "Backward() through a graph that an earlier Backward() already freed: compute the value again (Fovea keeps no graph after backward)");

    private static void Accumulate(Tensor leaf, Tensor g)
    {
        if (!leaf.RequiresGrad) return;
        // A backward may hand the same tensor to several inputs, so the leaf gets its own copy to accumulate into.
        // The gradient outlives the step that computed it (the optimiser reads it after), so it is never pooled.
        using var _ = StepMemory.Persistent();
        if (leaf.Grad is not null) leaf.Grad.AddInPlace(g);
        else if (leaf.SpareGrad is { } spare && Shapes.Equal(spare.ShapeSpan, g.ShapeSpan) && spare.Device.Equals(g.Device))
        {
            spare.CopyFrom(g);
            leaf.Grad = spare;
            leaf.SpareGrad = null;
        }
        else leaf.Grad = g.Clone();
    }
}
