using System.Buffers.Binary;

namespace Fovea.IO;

/// <summary>A tensor's elements as raw little-endian bytes (float32 or int64), the payload of .npy and safetensors files.</summary>
internal static class TensorBytes
{
    public static byte[] LittleEndian(Tensor t)
    {
        if (t.DType == DType.Int64)
        {
            var v = t.ToLongArray();
            var b = new byte[v.Length * 8];
            for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(i * 8), v[i]);
            return b;
        }
        var f = t.ToArray();
        var bytes = new byte[f.Length * 4];
        for (int i = 0; i < f.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), f[i]);
        return bytes;
    }
}
