namespace Fovea.Data;

/// <summary>A data set could not be found or fetched; the message says how to get it.</summary>
public sealed class DatasetUnavailableException : Exception
{
    public DatasetUnavailableException(string message) : base(message) { }
    public DatasetUnavailableException(string message, Exception inner) : base(message, inner) { }
}
