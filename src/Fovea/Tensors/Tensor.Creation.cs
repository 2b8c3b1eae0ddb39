namespace Fovea;

public partial class Tensor
{
    private static Device Dev(Device? d) => d ?? Device.Cpu;

    /// <summary>A new float32 tensor of zeros.</summary>
    public static Tensor Zeros(int[] shape, Device? device = null) =>
        new(Dev(device).Backend.Allocate(DType.Float32, Shapes.Count(shape)), (int[])shape.Clone());

    public static Tensor Zeros(params int[] shape) => Zeros(shape, null);

    /// <summary>A tensor whose values are left as its buffer held them, for a kernel to overwrite whole (torch.empty).</summary>
    internal static Tensor Empty(int[] shape, Device? device = null) =>
        new(Dev(device).Backend.AllocateUninitialized(DType.Float32, Shapes.Count(shape)), (int[])shape.Clone());

    public static Tensor Ones(int[] shape, Device? device = null) => Full(shape, 1f, device);
    public static Tensor Ones(params int[] shape) => Ones(shape, null);

    public static Tensor Full(int[] shape, float value, Device? device = null)
    {
        var t = Zeros(shape, device);
        if (value != 0f) t.Backend.Fill(t.Storage, value);
        return t;
    }

    /// <summary>A zero tensor with the same shape and device as <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like.Shape, like.Device);

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full([], value, device);

    /// <summary>[start, start+step, ...) up to <paramref name="end"/>, as float32.</summary>
    public static Tensor Arange(float start, float end, float step = 1f, Device? device = null)
    {
        if (step == 0f) throw new ArgumentException("arange step must not be zero");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = start + i * step;
        return FromArray(data, [n], device);
    }

    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>Wraps (copies to the device) a float array with the given shape.</summary>
    public static Tensor FromArray(float[] data, int[] shape, Device? device = null)
    {
        var s = Shapes.Infer(shape, data.Length);
        if (Shapes.Count(s) != data.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {Shapes.Format(shape)}");
        return new Tensor(Dev(device).Backend.FromHost(data), s);
    }

    /// <summary>A 1-D float tensor of the values.</summary>
    public static Tensor FromArray(params float[] data) => FromArray(data, [data.Length]);

    /// <summary>Wraps an int64 array (class labels, indices).</summary>
    public static Tensor FromArray(long[] data, int[] shape, Device? device = null)
    {
        var s = Shapes.Infer(shape, data.Length);
        return new Tensor(Dev(device).Backend.FromHost(data), s);
    }

    /// <summary>Standard normal values from <paramref name="generator"/> (the default generator when null).</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null, Device? device = null)
    {
        var data = new float[Shapes.Count(shape)];
        (generator ?? Generator.Default).FillNormal(data);
        return FromArray(data, shape, device);
    }

    /// <summary>Uniform values in [low, high).</summary>
    public static Tensor Uniform(int[] shape, float low = 0f, float high = 1f, Generator? generator = null, Device? device = null)
    {
        var data = new float[Shapes.Count(shape)];
        (generator ?? Generator.Default).FillUniform(data, low, high);
        return FromArray(data, shape, device);
    }
}
