namespace Fovea.Distributed;

/// <summary>
/// The collectives data parallelism across processes needs: a sum all-reduce, an all-gather, a broadcast and a barrier
/// over the processes of one job. <see cref="Mpi.MpiCommunicator"/> implements it over Open MPI; <see cref="SingleProcess"/>
/// is the job of one.
/// </summary>
public interface ICommunicator : Fovea.NN.IAllReduceGroup
{
    /// <summary>This process's index in the job, 0 .. Size-1.</summary>
    int Rank { get; }

    /// <summary>How many processes the job has.</summary>
    int Size { get; }

    /// <summary>Replaces every element with the value <paramref name="root"/> holds.</summary>
    void Broadcast(float[] buffer, int root = 0);

    /// <summary>Every process contributes the same number of elements; afterwards every process holds all of them in rank
    /// order: rank r's <paramref name="send"/> lands at <c>receive[r * send.Length ..]</c>. The elements travel as raw
    /// bytes (all processes run the same program on the same architecture).</summary>
    /// <param name="send">This process's elements (the same count on every process).</param>
    /// <param name="receive">Size × send.Length elements.</param>
    void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged;

    /// <summary>Returns once every process has called it.</summary>
    void Barrier();
}

/// <summary>A job of one process: every collective is the identity.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static SingleProcess Instance { get; } = new();
    public int Rank => 0;
    public int Size => 1;
    public void AllreduceSum(float[] buffer) { }
    public void Broadcast(float[] buffer, int root = 0)
    {
        if (root != 0) throw new ArgumentException($"broadcast root {root} is not a rank of a one-process job");
    }
    public void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
    {
        if (receive.Length != send.Length) throw new ArgumentException($"all-gather over one process receives {send.Length} elements, the buffer holds {receive.Length}");
        send.CopyTo(receive);
    }
    public void Barrier() { }
}
