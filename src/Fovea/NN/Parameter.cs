namespace Fovea.NN;

/// <summary>A tensor that a module learns: it requires grad and is listed by <see cref="Module.Parameters"/>.</summary>
public sealed class Parameter : Tensor
{
    public Parameter(Tensor value) : base(value.Dense().Storage, value.Shape) => RequiresGrad = true;
}
