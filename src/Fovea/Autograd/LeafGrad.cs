namespace Fovea.Autograd;

/// <summary>
/// Lets a layer's backward write a parameter's gradient straight into the parameter's <see cref="Tensor.Grad"/>
/// instead of returning it for the engine to copy there. A training step then needs no second, step-pool copy of
/// each weight gradient (VGG-16: 528 MiB) and skips the copy.
/// </summary>
internal static class LeafGrad
{
    /// <summary>
    /// The buffer a backward may overwrite with the whole gradient of <paramref name="input"/>, already made its
    /// <see cref="Tensor.Grad"/>: the buffer <see cref="Tensor.ClearGrad"/> kept, or a new one. Null when the input is
    /// not a leaf that wants a gradient, or it already holds one to add to: the backward then returns its gradient
    /// for the engine to accumulate, as any op does.
    /// </summary>
    public static Tensor? Overwrite(Tensor input)
    {
        if (input.GradFn is not null || !input.RequiresGrad || input.Grad is not null) return null;
        Tensor grad;
        if (input.SpareGrad is { } spare && Shapes.Equal(spare.ShapeSpan, input.ShapeSpan) && spare.Device.Equals(input.Device))
        {
            grad = spare;
            input.SpareGrad = null;
        }
        else
        {
            // The gradient outlives the step (the optimiser reads it after), so it is never pooled.
            using var _ = StepMemory.Persistent();
            grad = Tensor.Zeros(input.Shape, input.Device);
        }
        input.Grad = grad;
        CapturedStep.NoteLeafGradient(input);
        return grad;
    }
}
