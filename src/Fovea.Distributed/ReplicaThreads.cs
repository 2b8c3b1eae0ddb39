using System.Runtime.ExceptionServices;

namespace Fovea.Distributed;

/// <summary>
/// One dedicated background thread per replica, kept for the object's lifetime so each keeps its thread-local
/// GEMM packing buffers from step to step (a fresh thread per step would allocate them again).
/// <see cref="Run"/> hands every thread its index and waits for all of them; the first exception is rethrown.
/// </summary>
internal sealed class ReplicaThreads : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;
    private readonly CountdownEvent _done;
    private Action<int>? _work;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stopping;

    public ReplicaThreads(int count)
    {
        _go = new SemaphoreSlim[count];
        _threads = new Thread[count];
        _done = new CountdownEvent(count);
        for (int i = 0; i < count; i++)
        {
            int index = i;
            _go[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"fovea-replica-{i}" };
            _threads[i].Start();
        }
    }

    public int Count => _threads.Length;

    private void Loop(int index)
    {
        while (true)
        {
            _go[index].Wait();
            if (_stopping) return;
            try { _work!(index); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null); }
            finally { _done.Signal(); }
        }
    }

    /// <summary>Runs work(i) on thread i for every i, and returns when all have finished.</summary>
    public void Run(Action<int> work)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _work = work;
        _error = null;
        _done.Reset(_threads.Length);
        foreach (var g in _go) g.Release();
        _done.Wait();
        _work = null;
        _error?.Throw();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var g in _go) g.Release();
        foreach (var t in _threads) t.Join();
        foreach (var g in _go) g.Dispose();
        _done.Dispose();
    }
}
