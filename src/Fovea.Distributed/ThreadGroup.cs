namespace Fovea.Distributed;

/// <summary>
/// A job whose ranks are threads of this process: in-process replicas use it to pool batch-norm statistics, and
/// tests use it to run <see cref="DistributedDataParallel"/> without mpirun. Sums are taken in rank order, so every
/// rank sees the same bits. A rank that never arrives (it threw, or hangs) makes the others fail after
/// <see cref="Timeout"/> with an error naming the waiting rank, instead of hanging.
/// </summary>
public sealed class ThreadGroup
{
    private readonly float[]?[] _slots;
    private readonly byte[]?[] _bytes;
    private readonly Barrier _barrier;

    /// <param name="size">How many ranks (threads) take part, at least 1.</param>
    public ThreadGroup(int size)
    {
        if (size < 1) throw new ArgumentException($"a thread group needs at least 1 rank, got {size}");
        _slots = new float[]?[size];
        _bytes = new byte[]?[size];
        _barrier = new Barrier(size);
    }

    /// <summary>How many ranks take part.</summary>
    public int Size => _slots.Length;

    /// <summary>How long a rank waits at a collective for the others before it fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>The communicator that rank <paramref name="rank"/>'s thread uses.</summary>
    public ICommunicator Rank(int rank)
    {
        if (rank < 0 || rank >= Size) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is not in a group of {Size}");
        return new Member(this, rank);
    }

    private void Wait(int rank, string what)
    {
        if (!_barrier.SignalAndWait(Timeout))
            throw new TimeoutException($"rank {rank} of {Size}: another rank did not reach {what} within {Timeout.TotalSeconds:F0} s");
    }

    private sealed class Member(ThreadGroup group, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => group.Size;

        public void AllreduceSum(float[] buffer)
        {
            group._slots[rank] = (float[])buffer.Clone();
            group.Wait(rank, "all-reduce");
            for (int r = 0; r < group.Size; r++)
                if (group._slots[r]!.Length != buffer.Length)
                    throw new ArgumentException($"rank {rank}: all-reduce of {buffer.Length} values, but rank {r} sent {group._slots[r]!.Length}");
            Array.Copy(group._slots[0]!, buffer, buffer.Length);
            for (int r = 1; r < group.Size; r++)
                System.Numerics.Tensors.TensorPrimitives.Add(buffer, group._slots[r]!, buffer);
            group.Wait(rank, "the end of an all-reduce");
        }

        public void Broadcast(float[] buffer, int root = 0)
        {
            if (rank == root) group._slots[root] = (float[])buffer.Clone();
            group.Wait(rank, "broadcast");
            Array.Copy(group._slots[root]!, buffer, buffer.Length);
            group.Wait(rank, "the end of a broadcast");
        }

        public void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
        {
            group._bytes[rank] = System.Runtime.InteropServices.MemoryMarshal.AsBytes(send).ToArray();
            group.Wait(rank, "all-gather");
            var into = System.Runtime.InteropServices.MemoryMarshal.AsBytes(receive);
            int each = group._bytes[rank]!.Length;
            if (into.Length != each * group.Size)
                throw new ArgumentException($"rank {rank}: all-gather receives into {into.Length} bytes, but {group.Size} ranks send {each} each");
            for (int r = 0; r < group.Size; r++) group._bytes[r]!.CopyTo(into[(r * each)..]);
            group.Wait(rank, "the end of an all-gather");
        }

        public void Barrier() => group.Wait(rank, "barrier");
    }
}
