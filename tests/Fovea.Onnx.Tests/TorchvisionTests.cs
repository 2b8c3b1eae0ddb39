using System.Diagnostics;
using Fovea.Autograd;

namespace Fovea.Onnx.Tests;

/// <summary>
/// torchvision's AlexNet and VGG-11 (random weights, 233 and 507 MB as ONNX: too big to commit) exported by PyTorch at
/// test time with tools/fixtures/make_onnx_fixtures.py --big, imported by Fovea and compared with PyTorch's output.
/// </summary>
public sealed class TorchvisionTests(TorchvisionTests.Models models) : IClassFixture<TorchvisionTests.Models>
{
    /// <summary>The generated models (about 740 MB), made once for the class and deleted after it.</summary>
    public sealed class Models : IDisposable
    {
        private readonly Lazy<string> _dir = new(Generate);
        public string Dir => _dir.Value;
        public void Dispose()
        {
            if (_dir.IsValueCreated) Directory.Delete(_dir.Value, recursive: true);
        }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Fovea.slnx"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository root (Fovea.slnx) above " + AppContext.BaseDirectory);
    }

    private static string Generate()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
            throw new InvalidOperationException("these tests need Debian's /usr/bin/python3 with torch and torchvision: apt install python3-torch python3-torchvision python3-onnx");
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-torchvision-").FullName;
        var psi = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "tools", "fixtures", "make_onnx_fixtures.py"));
        psi.ArgumentList.Add("--big");
        psi.ArgumentList.Add(dir);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"make_onnx_fixtures.py --big failed ({p.ExitCode}); it needs python3-torch, python3-torchvision and python3-onnx:\n{stderr.Result}");
        return dir;
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("alexnet")]
    [InlineData("vgg11")]
    public void Torchvision_model_matches_pytorch(string name)
    {
        var folder = Path.Combine(models.Dir, name);
        var model = OnnxImporter.Load(Path.Combine(folder, "model.onnx"));
        var x = Fovea.IO.Npy.Load(Path.Combine(folder, "input.npy"));
        Tensor y;
        using (GradMode.NoGrad()) y = model.Forward(x);
        Close.Assert(Fovea.IO.Npy.Read(Path.Combine(folder, "output.npy")).Doubles!, y.ToArray(), name);
        Assert.Contains("features.0.weight", model.StateDict().Keys);
        Assert.Contains("classifier.6.bias", model.StateDict().Keys);
    }
}
