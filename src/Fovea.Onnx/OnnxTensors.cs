using System.Buffers.Binary;
using Fovea.Onnx.Proto;
using Google.Protobuf;

namespace Fovea.Onnx;

/// <summary>Conversions between ONNX TensorProto and Fovea's values.</summary>
internal static class OnnxTensors
{
    public const int Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Double = 11;

    public static int[] Dims(TensorProto t) => t.Dims.Select(d => checked((int)d)).ToArray();

    public static bool IsFloat(TensorProto t) => t.DataType is Float or Double;

    /// <summary>The tensor's values as doubles, from raw_data or the typed fields.</summary>
    public static ConstTensor ToConst(TensorProto t, string where)
    {
        var shape = Dims(t);
        int n = Shapes.Count(shape);
        double[] v;
        var raw = t.RawData.Span;
        switch (t.DataType)
        {
            case Float:
                v = raw.Length > 0 ? Read(raw, n, 4, where, b => BinaryPrimitives.ReadSingleLittleEndian(b)) : t.FloatData.Select(f => (double)f).ToArray();
                break;
            case Double:
                v = raw.Length > 0 ? Read(raw, n, 8, where, BinaryPrimitives.ReadDoubleLittleEndian) : t.DoubleData.ToArray();
                break;
            case Int64:
                v = raw.Length > 0 ? Read(raw, n, 8, where, b => BinaryPrimitives.ReadInt64LittleEndian(b)) : t.Int64Data.Select(x => (double)x).ToArray();
                break;
            case Int32:
                v = raw.Length > 0 ? Read(raw, n, 4, where, b => BinaryPrimitives.ReadInt32LittleEndian(b)) : t.Int32Data.Select(x => (double)x).ToArray();
                break;
            case Int8:
                v = raw.Length > 0 ? Read(raw, n, 1, where, b => (sbyte)b[0]) : t.Int32Data.Select(x => (double)x).ToArray();
                break;
            case Uint8:
            case Bool:
                v = raw.Length > 0 ? Read(raw, n, 1, where, b => b[0]) : t.Int32Data.Select(x => (double)x).ToArray();
                break;
            default:
                throw new NotSupportedException($"{where}: ONNX tensor element type {t.DataType} is not supported (float, double, int8/32/64, uint8, bool are)");
        }
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new NotSupportedException($"{where}: tensors stored in external files are not supported");
        if (v.Length != n) throw new InvalidDataException($"{where}: tensor '{t.Name}' of shape {Shapes.Format(shape)} holds {v.Length} values");
        return new ConstTensor(v, shape, !IsFloat(t));
    }

    private static double[] Read(ReadOnlySpan<byte> raw, int n, int size, string where, Func<ReadOnlySpan<byte>, double> read)
    {
        if (raw.Length != n * size) throw new InvalidDataException($"{where}: raw_data holds {raw.Length} bytes, expected {n * size}");
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = read(raw.Slice(i * size, size));
        return v;
    }

    /// <summary>A float tensor straight from raw_data or float_data (no detour through doubles).</summary>
    public static Tensor ToFloatTensor(TensorProto t, string where)
    {
        var shape = Dims(t);
        int n = Shapes.Count(shape);
        if (t.DataType == Float && t.RawData.Length == n * 4)
        {
            var f = new float[n];
            t.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()));
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            return Tensor.FromArray(f, shape);
        }
        if (t.DataType == Float && t.RawData.Length == 0 && t.FloatData.Count == n) return Tensor.FromArray(t.FloatData.ToArray(), shape);
        return ToConst(t, where).Map(x => x, false).ToTensor();
    }

    public static TensorProto FromFloats(string name, float[] data, int[] shape)
    {
        var t = new TensorProto { Name = name, DataType = Float };
        t.Dims.AddRange(shape.Select(d => (long)d));
        var bytes = new byte[data.Length * 4];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(bytes);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    public static TensorProto FromLongs(string name, long[] data, int[]? shape = null)
    {
        var t = new TensorProto { Name = name, DataType = Int64 };
        t.Dims.AddRange((shape ?? [data.Length]).Select(d => (long)d));
        t.Int64Data.AddRange(data);
        return t;
    }
}
