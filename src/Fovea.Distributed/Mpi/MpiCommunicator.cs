using System.Diagnostics;

namespace Fovea.Distributed.Mpi;

/// <summary>
/// MPI_COMM_WORLD over Open MPI. Started with <c>mpirun -np N</c> each process gets its rank; started alone, a
/// program is rank 0 of 1. Collectives are issued non-blocking (MPI_Iallreduce, MPI_Iallgather, MPI_Ibcast, MPI_Ibarrier) and
/// polled against <see cref="Timeout"/>: when a peer has died and a collective cannot finish, this rank stops with
/// an <see cref="MpiException"/> naming itself and the operation instead of hanging (mpirun's own report names the
/// rank that exited). All calls must come from the thread that made the communicator.
/// Dispose calls MPI_Finalize.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    private readonly MpiNative.Api _api;
    private bool _disposed;

    /// <summary>Floats per all-reduce call: large gradients go in buckets of this size (4 MiB).</summary>
    public int BucketFloats { get; init; } = 1 << 20;

    /// <summary>How long one collective may take before this rank gives up (default 300 s: longer than rank 0 alone
    /// needs to write a checkpoint while the others wait in the next collective).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Initialises MPI (once per process) and reads this process's rank and the job's size.</summary>
    public MpiCommunicator()
    {
        _api = MpiNative.Get();
        int flag;
        MpiNative.Check(_api.Initialized(&flag), "MPI_Initialized");
        if (flag == 0) MpiNative.Check(_api.Init(null, 0), "MPI_Init");
        int rank, size;
        MpiNative.Check(_api.CommRank(_api.CommWorld, &rank), "MPI_Comm_rank");
        MpiNative.Check(_api.CommSize(_api.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>True when Open MPI's library can be loaded on this machine.</summary>
    public static bool IsAvailable()
    {
        try { MpiNative.Get(); return true; }
        catch (DllNotFoundException) { return false; }
    }

    public void AllreduceSum(float[] buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        fixed (float* p = buffer)
        {
            for (int start = 0; start < buffer.Length; start += BucketFloats)
            {
                int count = Math.Min(BucketFloats, buffer.Length - start);
                nint req;
                MpiNative.Check(_api.Iallreduce(MpiNative.InPlace, (nint)(p + start), count, _api.Float, _api.Sum, _api.CommWorld, &req), "MPI_Iallreduce");
                Wait(ref req, $"all-reduce of floats {start}..{start + count} of {buffer.Length}");
            }
        }
    }

    public void Broadcast(float[] buffer, int root = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (root < 0 || root >= Size) throw new ArgumentException($"broadcast root {root} is not a rank of this {Size}-process job");
        fixed (float* p = buffer)
        {
            for (int start = 0; start < buffer.Length; start += BucketFloats)
            {
                int count = Math.Min(BucketFloats, buffer.Length - start);
                nint req;
                MpiNative.Check(_api.Ibcast((nint)(p + start), count, _api.Float, root, _api.CommWorld, &req), "MPI_Ibcast");
                Wait(ref req, $"broadcast from rank {root}");
            }
        }
    }

    public void Allgather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (receive.Length != (long)send.Length * Size)
            throw new ArgumentException($"all-gather of {send.Length} elements over {Size} ranks needs a receive buffer of {(long)send.Length * Size}, got {receive.Length}");
        // One MPI_Allgather of bytes: every rank sends the same count, so no counts need exchanging first (no Allgatherv).
        long bytes = (long)send.Length * sizeof(T);
        if (bytes > int.MaxValue) throw new ArgumentException($"all-gather of {bytes} bytes per rank exceeds MPI's int count; send less per call");
        fixed (T* s = send)
        fixed (T* r = receive)
        {
            nint req;
            MpiNative.Check(_api.Iallgather((nint)s, (int)bytes, _api.Byte, (nint)r, (int)bytes, _api.Byte, _api.CommWorld, &req), "MPI_Iallgather");
            Wait(ref req, $"all-gather of {bytes} bytes per rank");
        }
    }

    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        nint req;
        MpiNative.Check(_api.Ibarrier(_api.CommWorld, &req), "MPI_Ibarrier");
        Wait(ref req, "barrier");
    }

    // Polls the request: spins briefly (collectives on one machine finish in microseconds to milliseconds), then
    // sleeps between tests so a rank waiting on a slow peer does not burn a core.
    private void Wait(ref nint request, string what)
    {
        var clock = Stopwatch.StartNew();
        int polls = 0;
        while (true)
        {
            int done;
            fixed (nint* r = &request) MpiNative.Check(_api.Test(r, &done, 0), "MPI_Test");
            if (done != 0) return;
            if (clock.Elapsed > Timeout)
                throw new MpiException($"rank {Rank} of {Size}: {what} did not complete within {Timeout.TotalSeconds:F0} s; " +
                    "another rank has probably died or stopped calling collectives");
            if (++polls > 1000) Thread.Sleep(1); else Thread.SpinWait(20);
        }
    }

    /// <summary>Ends every process of the job (MPI_Abort), for a rank that cannot go on.</summary>
    public void Abort(int errorCode) => _api.Abort(_api.CommWorld, errorCode);

    /// <summary>Calls MPI_Finalize.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        int finalized;
        if (_api.Finalized(&finalized) == MpiNative.Success && finalized == 0) _api.Finalize();
    }
}
