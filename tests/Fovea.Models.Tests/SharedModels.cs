using Fovea.Models;

namespace Fovea.Models.Tests;

/// <summary>
/// The big models several tests read but none changes, built once per test run: a VGG-16 holds 138 M floats and
/// takes seconds to initialise, so building it per test would dominate the run.
/// </summary>
internal static class SharedModels
{
    private static readonly Lazy<AlexNet> LazyAlexNet = new(() => new AlexNet(generator: new Generator(1)));
    private static readonly Lazy<VGG> LazyVgg16 = new(() => new VGG(16, generator: new Generator(2)));
    private static readonly Lazy<VGG> LazyVgg11Bn = new(() => new VGG(11, batchNorm: true, generator: new Generator(3)));

    public static AlexNet AlexNet => LazyAlexNet.Value;
    public static VGG Vgg16 => LazyVgg16.Value;
    public static VGG Vgg11Bn => LazyVgg11Bn.Value;
}
