namespace Fovea.Onnx.Tests;

/// <summary>fovea export / import / predict --model, run as a user would (a separate process, no terminal).</summary>
public class CliTests
{
    private static (int Exit, string Out, string Err) Fovea(string workDir, params string[] args) => FoveaProcess.Run(workDir, args);

    private static void Ok((int Exit, string Out, string Err) r) => Assert.True(r.Exit == 0, $"exit {r.Exit}\n{r.Out}\n{r.Err}");

    [Fact]
    public void Predict_runs_a_pytorch_onnx_model_on_a_npy_batch()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-cli").FullName;
        Ok(Fovea(dir, "predict", "--model", Fixtures.Model("small_vgg"), "--input", Path.Combine(Fixtures.Root, "small_vgg", "input.npy"), "--output", "y.npy"));
        Close.Assert(Fixtures.Output("small_vgg"), IO.Npy.Load(Path.Combine(dir, "y.npy")).ToArray(), "fovea predict --model");
    }

    [Fact]
    public void Export_import_predict_round_trip()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-cli").FullName;
        Ok(Fovea(dir, "export", "--model", "lenet5", "--classes", "7", "--output", "lenet5.onnx"));
        Ok(Fovea(dir, "import", "lenet5.onnx", "--output", "ck"));
        Assert.True(File.Exists(Path.Combine(dir, "ck", "checkpoint.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "ck", "model.onnx")));
        IO.Npy.Save(Path.Combine(dir, "x.npy"), Tensor.Uniform([3, 1, 28, 28], generator: new Generator(2)));
        Ok(Fovea(dir, "predict", "--model", "lenet5.onnx", "--input", "x.npy", "--output", "a.npy"));
        Ok(Fovea(dir, "predict", "--model", "ck", "--input", "x.npy", "--output", "b.npy"));
        Ok(Fovea(dir, "export", "--checkpoint", "ck", "--output", "again.onnx"));
        Ok(Fovea(dir, "predict", "--model", "again.onnx", "--input", "x.npy", "--output", "c.npy"));
        var a = IO.Npy.Load(Path.Combine(dir, "a.npy"));
        Assert.Equal([3, 7], a.Shape);
        Assert.Equal(a.ToArray(), IO.Npy.Load(Path.Combine(dir, "b.npy")).ToArray());
        Assert.Equal(a.ToArray(), IO.Npy.Load(Path.Combine(dir, "c.npy")).ToArray());
        Close.Assert(a.ToArray(), Ort.Run(File.ReadAllBytes(Path.Combine(dir, "lenet5.onnx")), IO.Npy.Load(Path.Combine(dir, "x.npy"))), "ORT");
    }

    [Fact]
    public void Import_of_a_non_onnx_file_is_one_line_error()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-cli").FullName;
        File.WriteAllText(Path.Combine(dir, "notes.onnx"), "not a model");
        var r = Fovea(dir, "import", "notes.onnx", "--output", "ck");
        Assert.Equal(1, r.Exit);
        Assert.Contains("notes.onnx", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void Summary_of_an_imported_checkpoint_equals_the_zoo_models()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-cli").FullName;
        Ok(Fovea(dir, "export", "--model", "lenet5", "--output", "lenet5.onnx"));
        Ok(Fovea(dir, "import", "lenet5.onnx", "--output", "ck"));
        var imported = Fovea(dir, "summary", "--checkpoint", "ck", "--json");
        Ok(imported);
        var zoo = Fovea(dir, "summary", "--model", "lenet5", "--json");
        var a = System.Text.Json.JsonDocument.Parse(imported.Out).RootElement;
        var b = System.Text.Json.JsonDocument.Parse(zoo.Out).RootElement;
        Assert.Equal(b.GetProperty("total_params").GetInt64(), a.GetProperty("total_params").GetInt64());
        Assert.Equal(b.GetProperty("total_macs").GetInt64(), a.GetProperty("total_macs").GetInt64());
        static int[] Fields(System.Text.Json.JsonElement e) => e.GetProperty("layers").EnumerateArray()
            .Where(l => l.TryGetProperty("receptive_field", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.Number)
            .Select(l => l.GetProperty("receptive_field").GetInt32()).ToArray();
        Assert.Equal(new[] { 5, 6, 14, 16 }, Fields(b));
        Assert.Equal(Fields(b), Fields(a));
    }

    [Fact]
    public void An_imported_graph_trains_resumes_and_evaluates()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-cli").FullName;
        Ok(Fovea(dir, "export", "--model", "lenet5", "--output", "lenet5.onnx"));
        Ok(Fovea(dir, "import", "lenet5.onnx", "--output", "imported"));
        var trained = Fovea(dir, "train", "--from", "imported", "--epochs", "1", "--output", "run");
        Ok(trained);
        Assert.Contains("training onnx:lenet5.onnx on mnist", trained.Out);
        Assert.True(File.Exists(Path.Combine(dir, "run", "model.onnx")), "the run keeps its graph so its checkpoints can be rebuilt");
        var line = System.Text.Json.JsonDocument.Parse(File.ReadAllLines(Path.Combine(dir, "run", "metrics.jsonl")).Single()).RootElement;
        Assert.True(line.GetProperty("test_accuracy").GetDouble() > 0.8, line.ToString());
        var resumed = Fovea(dir, "train", "--epochs", "2", "--output", "run", "--resume");
        Ok(resumed);
        Assert.Contains("resuming onnx:lenet5.onnx on mnist", resumed.Err);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, "run", "metrics.jsonl")).Length);
        var eval = Fovea(dir, "eval", "--checkpoint", "run");
        Ok(eval);
        Assert.Contains("top-1 error", eval.Out);
        // A graph whose outputs do not fit the data set's classes is refused before any training.
        Ok(Fovea(dir, "export", "--model", "lenet5", "--classes", "7", "--output", "seven.onnx"));
        Ok(Fovea(dir, "import", "seven.onnx", "--output", "seven"));
        var wrong = Fovea(dir, "train", "--from", "seven", "--epochs", "1", "--output", "run3");
        Assert.NotEqual(0, wrong.Exit);
        Assert.Contains("outputs [1, 7] per image, mnist needs [1, 10]", wrong.Err);
    }
}
