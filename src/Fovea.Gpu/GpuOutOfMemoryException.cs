namespace Fovea.Gpu;

/// <summary>A device allocation failed even after Fovea's idle buffers were handed back: the message says how much was asked and how much is free.</summary>
public sealed class GpuOutOfMemoryException : InvalidOperationException
{
    public GpuOutOfMemoryException(string device, long requestedBytes, long freeBytes, long heldBytes, Exception? inner = null)
        : base($"out of memory on {device}: asked for {Format(requestedBytes)}, {Format(freeBytes)} free " +
            $"({Format(heldBytes)} held by Fovea's tensors); use a smaller batch or model", inner)
    {
        RequestedBytes = requestedBytes;
        FreeBytes = freeBytes;
    }

    /// <summary>Bytes the failed allocation asked for.</summary>
    public long RequestedBytes { get; }

    /// <summary>Bytes the device reported (or Fovea's accounting estimated) free at the time.</summary>
    public long FreeBytes { get; }

    private static string Format(long bytes) => bytes >= 1 << 20 ? $"{bytes:N0} bytes ({bytes / (1024.0 * 1024):F1} MiB)" : $"{bytes:N0} bytes";
}
