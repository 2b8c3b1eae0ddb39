namespace Fovea;

/// <summary>Element types. Fovea computes in float32; int64 carries class labels and indices.</summary>
public enum DType
{
    Float32,
    Int64,
}
