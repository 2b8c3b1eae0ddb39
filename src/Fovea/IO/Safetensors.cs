using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fovea.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian data. Readable by Python's safetensors and PyTorch.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes the tensors (float32 or int64) and string metadata, atomically.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var order = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        foreach (var name in order)
        {
            var t = tensors[name];
            long bytes = (long)t.NumEl * (t.DType == DType.Int64 ? 8 : 4);
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType == DType.Int64 ? "I64" : "F32",
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        // The data must start 8-byte aligned: pad the header with spaces.
        int pad = (8 - json.Length % 8) % 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
            s.Write(len);
            s.Write(json);
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            foreach (var name in order) s.Write(TensorBytes.LittleEndian(tensors[name]));
        });
    }

    /// <summary>Reads every tensor and the metadata; a truncated or malformed file is an <see cref="InvalidDataException"/>.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no such file: '{path}'", path);
        var bytes = File.ReadAllBytes(path);
        string Bad(string why) => $"'{path}' is not a valid safetensors file: {why}";
        if (bytes.Length < 8) throw new InvalidDataException(Bad("shorter than its 8-byte header length"));
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > (ulong)bytes.Length - 8) throw new InvalidDataException(Bad($"header of {headerLen} bytes but the file has {bytes.Length}"));
        JsonObject header;
        try { header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLen))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException(Bad($"header is not JSON ({e.Message})"), e);
        }
        int dataStart = 8 + (int)headerLen;
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            try
            {
                var o = node!.AsObject();
                string dtype = o["dtype"]!.GetValue<string>();
                var shape = o["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
                var offs = o["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                int n = Shapes.Count(shape);
                int size = dtype switch { "F32" => 4, "I64" => 8, _ => throw new InvalidDataException(Bad($"tensor '{name}' has unsupported dtype {dtype} (expected F32 or I64)")) };
                if (offs.Length != 2 || offs[1] - offs[0] != (long)n * size || dataStart + offs[1] > bytes.Length)
                    throw new InvalidDataException(Bad($"tensor '{name}' data range {string.Join("..", offs)} does not fit shape {Shapes.Format(shape)} in a file of {bytes.Length} bytes (truncated?)"));
                var span = bytes.AsSpan(dataStart + (int)offs[0], n * size);
                if (size == 4)
                {
                    var v = new float[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]);
                    tensors[name] = Tensor.FromArray(v, shape);
                }
                else
                {
                    var v = new long[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(span[(i * 8)..]);
                    tensors[name] = Tensor.FromArray(v, shape);
                }
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException(Bad($"entry '{name}' is malformed"), e);
            }
        }
        return (tensors, metadata);
    }
}
