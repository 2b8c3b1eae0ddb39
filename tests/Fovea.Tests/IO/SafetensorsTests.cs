using Fovea.IO;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Tests.IO;

public class SafetensorsTests
{
    [Fact]
    public void CheckpointRoundTripsWeightsOptimizerStateAndConfig()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-ckpt").FullName;
        var model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
        var opt = new SGD(model.Parameters(), 0.1f, momentum: 0.9f);
        var x = Tensor.Randn([5, 4], new Generator(1));
        (model.Forward(x).Sum()).Backward();
        opt.Step();
        Checkpoint.Of(model, opt, new Dictionary<string, object?> { ["model"] = "mlp", ["epoch"] = 3, ["input_shape"] = new[] { 4 } }).Save(dir);

        var back = Checkpoint.Load(dir);
        Assert.Equal("mlp", back.GetString("model"));
        Assert.Equal(3, back.GetInt("epoch"));
        Assert.Equal(new[] { 4 }, back.GetInts("input_shape"));
        var model2 = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
        model2.LoadStateDict(back.Weights);
        Assert.Equal(model.Forward(x).ToArray(), model2.Forward(x).ToArray());
        var opt2 = new SGD(model2.Parameters(), 0.1f, momentum: 0.9f);
        opt2.LoadStateDict(back.OptimizerState);
        Assert.Equal(opt.StateDict()["0.momentum_buffer"].ToArray(), opt2.StateDict()["0.momentum_buffer"].ToArray());
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-st").FullName;
        var path = Path.Combine(dir, "w.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(100) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ACheckpointFileUnderAnyNameIsReadAsItIs()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-ckpt").FullName;
        Checkpoint.Of(new Sequential(new Linear(2, 2)), null, new Dictionary<string, object?> { ["model"] = "mlp" }).Save(dir);
        var renamed = Path.Combine(dir, "model.ckpt");
        File.Copy(Checkpoint.ResolvePath(dir), renamed);
        Assert.Equal("mlp", Checkpoint.Load(renamed).GetString("model"));

        var notOne = Path.Combine(dir, "x.npy");
        File.WriteAllBytes(notOne, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(notOne));
        Assert.Contains(notOne, e.Message);
    }

    [Fact]
    public void LoadingAnotherModelsWeightsNamesTheMismatch()
    {
        var a = new Sequential(new Linear(4, 3));
        var b = new Sequential(new Linear(4, 5));
        var e = Assert.Throws<ArgumentException>(() => b.LoadStateDict(a.StateDict()));
        Assert.Contains("0.weight", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        var c = new Sequential(new ReLU(), new Linear(4, 3));
        Assert.Contains("missing 1.weight", Assert.Throws<ArgumentException>(() => c.LoadStateDict(a.StateDict())).Message);
    }
}
