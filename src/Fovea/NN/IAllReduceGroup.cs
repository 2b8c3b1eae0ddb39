namespace Fovea.NN;

/// <summary>
/// The replicas or processes whose batch statistics a synchronised batch norm pools (PyTorch's process group for
/// SyncBatchNorm). Every member must call <see cref="AllreduceSum"/> the same number of times, in the same order,
/// with buffers of the same length. Fovea.Distributed's communicators implement it, in one process and over MPI.
/// </summary>
public interface IAllReduceGroup
{
    /// <summary>Replaces every element with its sum over all members of the group.</summary>
    void AllreduceSum(float[] buffer);
}
