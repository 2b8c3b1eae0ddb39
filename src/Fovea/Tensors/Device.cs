namespace Fovea;

/// <summary>Where a tensor's storage lives and which backend runs its ops.</summary>
public sealed class Device : IEquatable<Device>
{
    /// <summary>The kind of device, e.g. "cpu", "cuda", "ilgpu-cpu".</summary>
    public string Kind { get; }

    /// <summary>The device's index among devices of its kind.</summary>
    public int Index { get; }

    private readonly IBackend _backend;

    /// <summary>The backend that runs ops on this device (while a step is captured on this thread, its recorder).</summary>
    public IBackend Backend => CapturedStep.Intercept(_backend);

    private Device(string kind, int index, IBackend backend)
    {
        Kind = kind;
        Index = index;
        _backend = backend;
    }

    /// <summary>The managed CPU backend.</summary>
    public static Device Cpu { get; } = new("cpu", 0, Backends.Cpu.CpuBackend.Instance);

    /// <summary>Makes a device for a backend registered by another package (the GPU backend, say).</summary>
    public static Device Create(string kind, int index, IBackend backend) => new(kind, index, backend);

    public bool Equals(Device? other) => other is not null && other.Kind == Kind && other.Index == Index;
    public override bool Equals(object? obj) => Equals(obj as Device);
    public override int GetHashCode() => HashCode.Combine(Kind, Index);
    public override string ToString() => Kind == "cpu" ? "cpu" : $"{Kind}:{Index}";
}
