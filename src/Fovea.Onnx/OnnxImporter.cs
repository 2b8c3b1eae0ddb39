using Fovea.Onnx.Proto;
using Google.Protobuf;

namespace Fovea.Onnx;

/// <summary>Reads ONNX files into Fovea modules (<see cref="OnnxModel"/>).</summary>
public static class OnnxImporter
{
    /// <summary>
    /// Loads an ONNX model (opsets 9 to 21 of the default domain; the CNN operators) as a trainable module in evaluation mode.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="inputShape">The input shape, batch first, when the graph does not declare a static one (used to fold
    /// shape arithmetic at load); null to take the graph's.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or is truncated (the message names the file).</exception>
    /// <exception cref="NotSupportedException">An operator Fovea does not run: the message names the operator, the node and the opset.</exception>
    public static OnnxModel Load(string path, int[]? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"no ONNX file at {path}", path);
        return Load(File.ReadAllBytes(path), Path.GetFileName(path), inputShape);
    }

    /// <summary>Loads an ONNX model from its bytes; <paramref name="source"/> names it in messages.</summary>
    public static OnnxModel Load(byte[] bytes, string source, int[]? inputShape = null)
    {
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not a readable ONNX model (truncated or not ONNX): {e.Message}", e);
        }
        // Protobuf parses many non-ONNX byte strings as an empty or odd message: demand the parts every model has.
        if (proto.Graph is null || proto.IrVersion <= 0 || proto.OpsetImport.Count == 0)
            throw new InvalidDataException($"{source} is not an ONNX model (no graph, IR version or opset)");
        return new OnnxModel(proto, source, inputShape);
    }
}
