using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>The broadcast fast paths (dense, scalar, row) against the plain strided loop.</summary>
public class BinaryKernelTests
{
    public static IEnumerable<object[]> Shapes => new[]
    {
        new object[] { new[] { 4, 5 }, new[] { 4, 5 } },
        new object[] { new[] { 4, 5 }, new int[0] },
        new object[] { new int[0], new[] { 3, 7 } },
        new object[] { new[] { 2, 3, 4 }, new[] { 3, 1 } },
        new object[] { new[] { 2, 1, 4 }, new[] { 3, 4 } },
        new object[] { new[] { 8, 6, 5, 5 }, new[] { 1, 6, 1, 1 } },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastPathsEqualTheReference(int[] aShape, int[] bShape)
    {
        var g = new Generator(aShape.Sum() + 10 * bShape.Sum());
        var a = Tensor.Randn(aShape, g);
        var b = Tensor.Randn(bShape, g) + 3f;
        var shape = Fovea.Shapes.Broadcast(aShape, bShape);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            var fast = new float[Fovea.Shapes.Count(shape)];
            var plain = new float[fast.Length];
            var aStr = Fovea.Shapes.BroadcastStrides(aShape, Fovea.Shapes.ContiguousStrides(aShape), shape);
            var bStr = Fovea.Shapes.BroadcastStrides(bShape, Fovea.Shapes.ContiguousStrides(bShape), shape);
            BinaryKernels.Run(op, a.ToArray(), 0, aStr, b.ToArray(), 0, bStr, shape, fast);
            BinaryKernels.Reference(op, a.ToArray(), 0, aStr, b.ToArray(), 0, bStr, shape, plain);
            Assert.Equal(plain, fast);
            // And against the definition, element by element.
            var av = a.Expand(shape).Contiguous().ToArray();
            var bv = b.Expand(shape).Contiguous().ToArray();
            for (int i = 0; i < fast.Length; i++) Assert.Equal(BinaryKernels.Apply(op, av[i], bv[i]), fast[i], 5);
        }
    }
}
