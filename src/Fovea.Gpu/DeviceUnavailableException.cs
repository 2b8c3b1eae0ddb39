namespace Fovea.Gpu;

/// <summary>The device asked for does not exist on this machine; the message lists the devices that do.</summary>
public sealed class DeviceUnavailableException(string message) : InvalidOperationException(message);
