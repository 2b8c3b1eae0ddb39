using System.Reflection;
using System.Text.RegularExpressions;
using Fovea.Gpu.Kernels;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Fovea.Gpu.Tests;

/// <summary>
/// Every kernel compiles to PTX, checked without a GPU: the CPU accelerator runs kernels as plain .NET, so code that
/// CUDA cannot take (an unsupported IL pattern, a managed object) would otherwise pass every other test here.
/// </summary>
public sealed class PtxCompilationTests
{
    private static readonly Type[] KernelClasses =
    [
        typeof(ElementwiseKernels), typeof(ReduceKernels), typeof(PadKernels), typeof(PoolKernels), typeof(SoftmaxKernels),
        typeof(BatchNormKernels), typeof(LrnKernels), typeof(DropoutKernels), typeof(OptimizerKernels),
    ];

    // The generic kernels with the type arguments the backend loads them with.
    private static IEnumerable<MethodInfo> Kernels()
    {
        foreach (var type in KernelClasses)
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (m.IsGenericMethodDefinition)
                {
                    yield return m.MakeGenericMethod(typeof(float));
                    yield return m.MakeGenericMethod(typeof(long));
                }
                else yield return m;
            }
        var gemm = typeof(TiledGemm).GetMethod(nameof(TiledGemm.Kernel))!;
        yield return gemm.MakeGenericMethod(typeof(Side16), typeof(DenseLeft), typeof(DenseRight), typeof(int), typeof(DenseOutput));
        yield return gemm.MakeGenericMethod(typeof(Side16), typeof(ConvWeightRows), typeof(ConvPatches), typeof(PatchColumn), typeof(ConvOutput));
        yield return gemm.MakeGenericMethod(typeof(Side16), typeof(ConvWeightColumns), typeof(ConvGradientTaps), typeof(InputCell), typeof(ConvInputGradient));
        yield return gemm.MakeGenericMethod(typeof(Side16), typeof(ConvGradientRows), typeof(ConvPatchesTransposed), typeof(PatchTap), typeof(ConvWeightGradient));
    }

    [Fact]
    public void Every_kernel_compiles_to_ptx()
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_70), CudaArchitecture.SM_70, CudaInstructionSet.ISA_70, null);
        var kernels = Kernels().ToList();
        Assert.True(kernels.Count >= 35, $"found only {kernels.Count} kernels");
        foreach (var m in kernels)
        {
            // Implicitly grouped kernels take their index first; the others read Grid and Group themselves.
            var entry = m.GetParameters().FirstOrDefault()?.ParameterType == typeof(Index1D)
                ? EntryPointDescription.FromImplicitlyGroupedKernel(m)
                : EntryPointDescription.FromExplicitlyGroupedKernel(m);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            Assert.Contains(".entry", compiled.PTXAssembly);
            // The products' inner loop reads a thread's four values of A and of B from shared memory 16 bytes at a
            // time; scalar reads there cost the multiply-adds a third of their issue slots (docs/benchmarks.md).
            if (m.DeclaringType == typeof(TiledGemm))
                Assert.True(Regex.Count(compiled.PTXAssembly, @"ld\.shared\.v4\.f32") >= 2, $"{m}: the quad reads of shared memory are not vectorised");
        }
    }
}
