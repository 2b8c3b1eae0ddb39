using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Fovea.Onnx.Tests;

/// <summary>Runs ONNX bytes in ONNX Runtime (the CPU provider), the reference every export is held to.</summary>
public static class Ort
{
    public static float[] Run(byte[] model, Tensor input)
    {
        using var session = new InferenceSession(model);
        string name = session.InputMetadata.Keys.First();
        var x = new DenseTensor<float>(input.Contiguous().ToArray(), input.Shape);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, x)]);
        return results.First().AsTensor<float>().ToArray();
    }
}
