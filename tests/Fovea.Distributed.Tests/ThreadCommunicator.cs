namespace Fovea.Distributed.Tests;

/// <summary>A job whose ranks are threads of this process, for testing <see cref="DistributedDataParallel"/>
/// without mpirun: sums are taken in rank order, as every rank must see the same result.</summary>
internal sealed class ThreadJob(int size)
{
    private readonly float[]?[] _slots = new float[]?[size];
    private readonly byte[]?[] _bytes = new byte[]?[size];
    private readonly Barrier _barrier = new(size);

    public int Size => size;

    public ICommunicator Rank(int rank) => new Member(this, rank);

    // A rank that threw never arrives: fail the others instead of hanging the test run.
    private void Wait(int rank)
    {
        if (!_barrier.SignalAndWait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"rank {rank}: another rank did not reach the collective within 30 s");
    }

    private sealed class Member(ThreadJob job, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => job.Size;

        public void AllreduceSum(float[] buffer)
        {
            job._slots[rank] = (float[])buffer.Clone();
            job.Wait(rank);
            Array.Copy(job._slots[0]!, buffer, buffer.Length);
            for (int r = 1; r < job.Size; r++)
                for (int i = 0; i < buffer.Length; i++) buffer[i] += job._slots[r]![i];
            job.Wait(rank);
        }

        public void Broadcast(float[] buffer, int root = 0)
        {
            if (rank == root) job._slots[root] = (float[])buffer.Clone();
            job.Wait(rank);
            Array.Copy(job._slots[root]!, buffer, buffer.Length);
            job.Wait(rank);
        }

        public void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
        {
            job._bytes[rank] = System.Runtime.InteropServices.MemoryMarshal.AsBytes(send).ToArray();
            job.Wait(rank);
            var into = System.Runtime.InteropServices.MemoryMarshal.AsBytes(receive);
            int each = job._bytes[rank]!.Length;
            if (into.Length != each * job.Size) throw new ArgumentException($"rank {rank}: receive holds {into.Length} bytes, {job.Size} ranks send {each} each");
            for (int r = 0; r < job.Size; r++) job._bytes[r]!.CopyTo(into[(r * each)..]);
            job.Wait(rank);
        }

        public void Barrier() => job.Wait(rank);
    }
}
