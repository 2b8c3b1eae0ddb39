namespace Fovea.Tests.Support;

/// <summary>
/// Finite-difference gradient check: compares autograd's gradient of L = Σ f(inputs)·r with central differences
/// of L in each input element, and asserts the gradient is not all zero (so a check cannot pass on two zeros).
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, string what, float eps = 1e-2f, double rtol = 2e-2, double atol = 2e-3, int seed = 7)
    {
        var probe = f(inputs);
        var r = Tensor.Randn(probe.Shape, new Generator(seed));
        foreach (var x in inputs) { x.RequiresGrad = true; x.Grad = null; }
        (f(inputs) * r).Sum().Backward();
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var analytic = x.Grad?.ToArray() ?? new float[x.NumEl];
            var values = x.ToArray();
            var numeric = new double[values.Length];
            using (GradMode.NoGrad())
            {
                for (int i = 0; i < values.Length; i++)
                {
                    double L(float v)
                    {
                        var copy = (float[])values.Clone();
                        copy[i] = v;
                        var xs = (Tensor[])inputs.Clone();
                        xs[k] = Tensor.FromArray(copy, x.Shape);
                        var y = f(xs).ToArray();
                        var rv = r.ToArray();
                        double s = 0;
                        for (int j = 0; j < y.Length; j++) s += (double)y[j] * rv[j];
                        return s;
                    }
                    numeric[i] = (L(values[i] + eps) - L(values[i] - eps)) / (2 * eps);
                }
            }
            Assert.Contains(analytic, g => g != 0f);
            Close.Assert(numeric, analytic, $"{what}: d/d input {k}", rtol, atol);
        }
    }
}
