using System.Diagnostics;
using Fovea.Data.Transforms;

namespace Fovea.Data.Tests;

public class DataLoaderTests
{
    /// <summary>N 1×4×4 images; image i's pixels are i + p/100 (so every pixel says which sample it came from), label i % 3.</summary>
    private static ArrayDataset Numbered(int n)
    {
        var images = new float[n * 16];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 16; p++) images[i * 16 + p] = i + p / 100f;
        var labels = Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray();
        return new ArrayDataset(images, labels, new ImageShape(1, 4, 4), classCount: 3);
    }

    private static ITransform[] Augment() => [new RandomCrop(4, padding: 1), new RandomHorizontalFlip()];

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Every_sample_appears_exactly_once_per_epoch(int workers)
    {
        var ds = Numbered(103);
        using var loader = new DataLoader(ds, batchSize: 10, shuffle: true, seed: 5, numWorkers: workers);
        Assert.Equal(11, loader.BatchesPerEpoch);
        var seen = new List<int>();
        int batches = 0;
        foreach (var b in loader.GetEpoch(0))
        {
            Assert.Equal(batches++, b.Number);
            Assert.Equal([b.Count, 1, 4, 4], b.Images.Shape);
            Assert.Equal([b.Count], b.Labels.Shape);
            Assert.Equal(DType.Float32, b.Images.DType);
            Assert.Equal(DType.Int64, b.Labels.DType);
            var images = b.Images.ToArray();
            var labels = b.Labels.ToLongArray();
            for (int k = 0; k < b.Count; k++)
            {
                int index = b.Indices[k];
                Assert.Equal(index, (int)images[k * 16]); // no transforms: pixels identify the sample
                Assert.Equal(index % 3, labels[k]);
            }
            seen.AddRange(b.Indices);
        }
        Assert.Equal(11, batches);
        Assert.Equal(Enumerable.Range(0, 103), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, 103), seen); // shuffled
    }

    [Fact]
    public void Drop_last_leaves_out_the_short_batch()
    {
        var ds = Numbered(103);
        using var loader = new DataLoader(ds, batchSize: 10, dropLast: true);
        Assert.Equal(10, loader.BatchesPerEpoch);
        var batches = loader.GetEpoch(0).ToList();
        Assert.Equal(10, batches.Count);
        Assert.All(batches, b => Assert.Equal(10, b.Count));
        Assert.Equal(Enumerable.Range(0, 100), batches.SelectMany(b => b.Indices)); // no shuffle: data-set order

        using var keep = new DataLoader(ds, batchSize: 10);
        Assert.Equal(3, keep.GetEpoch(0).Last().Count);
    }

    [Fact]
    public void Same_seed_gives_the_same_order_and_pixels_with_0_and_2_workers()
    {
        var ds = Numbered(57);
        float[][] Run(int workers, int seed, int epoch)
        {
            using var loader = new DataLoader(ds, batchSize: 8, shuffle: true, seed: seed, transforms: Augment(), numWorkers: workers, prefetch: 3);
            return loader.GetEpoch(epoch).Select(b => b.Images.ToArray().Concat(b.Indices.Select(i => (float)i)).ToArray()).ToArray();
        }
        var sync = Run(0, 11, 3);
        Assert.Equal(sync, Run(2, 11, 3));
        Assert.Equal(sync, Run(0, 11, 3));
        Assert.NotEqual(sync, Run(2, 12, 3));
        // The augmentation does something: some samples were shifted or flipped.
        Assert.Contains(sync.SelectMany(b => b), v => v == 0f);
    }

    [Fact]
    public void Different_epochs_give_different_orders_and_epochs_can_be_replayed()
    {
        var ds = Numbered(200);
        using var loader = new DataLoader(ds, batchSize: 50, shuffle: true, seed: 1);
        var e0 = loader.GetEpoch(0).SelectMany(b => b.Indices).ToArray();
        var e1 = loader.GetEpoch(1).SelectMany(b => b.Indices).ToArray();
        Assert.NotEqual(e0, e1);
        Assert.Equal(e1, loader.EpochOrder(1));
        using var resumed = new DataLoader(ds, batchSize: 50, shuffle: true, seed: 1, numWorkers: 2);
        Assert.Equal(e1, resumed.GetEpoch(1).SelectMany(b => b.Indices).ToArray());
    }

    /// <summary>A data set whose reads take a while, to keep workers busy.</summary>
    private sealed class Slow(IDataset inner, int delayMs) : IDataset
    {
        private int _reads;
        public int Reads => Volatile.Read(ref _reads);
        public int Count => inner.Count;
        public ImageShape SampleShape => inner.SampleShape;
        public int ClassCount => inner.ClassCount;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public long GetLabel(int index) => inner.GetLabel(index);
        public void GetImage(int index, Span<float> destination)
        {
            Interlocked.Increment(ref _reads);
            Thread.Sleep(delayMs);
            inner.GetImage(index, destination);
        }
    }

    [Fact]
    public void Leaving_an_epoch_early_stops_the_workers_promptly()
    {
        var ds = new Slow(Numbered(10_000), delayMs: 1);
        using var loader = new DataLoader(ds, batchSize: 4, numWorkers: 2, prefetch: 4);
        var sw = Stopwatch.StartNew();
        using (var e = loader.GetEpoch(0).GetEnumerator())
        {
            Assert.True(e.MoveNext());
            Assert.True(e.MoveNext());
        } // dispose mid-epoch: 2,500 batches remain
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        // The workers were joined: no read starts after the enumerator's disposal returned.
        int reads = ds.Reads;
        Thread.Sleep(100);
        Assert.Equal(reads, ds.Reads);
        Assert.True(reads <= 4 * (2 + 4 + 2), $"{reads} reads: prefetch is not bounded");
    }

    [Fact]
    public void Disposing_the_loader_or_cancelling_unblocks_a_waiting_consumer()
    {
        var ds = new Slow(Numbered(100), delayMs: 200);
        var loader = new DataLoader(ds, batchSize: 50, numWorkers: 1);
        using var e = loader.GetEpoch(0).GetEnumerator();
        var sw = Stopwatch.StartNew();
        var t = Task.Run(() => e.MoveNext());
        Thread.Sleep(100);
        loader.Dispose();
        Assert.Throws<OperationCanceledException>(() => t.GetAwaiter().GetResult());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"disposing took {sw.Elapsed}");
        Assert.Throws<ObjectDisposedException>(() => loader.GetEpoch(1));

        using var cts = new CancellationTokenSource();
        using var loader2 = new DataLoader(ds, batchSize: 50, numWorkers: 2);
        using var e2 = loader2.GetEpoch(0, cts.Token).GetEnumerator();
        cts.CancelAfter(50);
        sw.Restart();
        Assert.Throws<OperationCanceledException>(() => e2.MoveNext());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"cancelling took {sw.Elapsed}");
    }

    private sealed class Throwing(IDataset inner, int bad) : IDataset
    {
        public int Count => inner.Count;
        public ImageShape SampleShape => inner.SampleShape;
        public int ClassCount => inner.ClassCount;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public long GetLabel(int index) => inner.GetLabel(index);
        public void GetImage(int index, Span<float> destination)
        {
            if (index == bad) throw new InvalidDataException($"sample {index} is broken");
            inner.GetImage(index, destination);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void A_worker_error_reaches_the_consumer(int workers)
    {
        using var loader = new DataLoader(new Throwing(Numbered(40), 33), batchSize: 4, numWorkers: workers);
        var e = Assert.Throws<InvalidDataException>(() => loader.GetEpoch(0).ToList());
        Assert.Contains("sample 33", e.Message);
    }

    [Fact]
    public void Output_shape_follows_the_transforms()
    {
        using var loader = new DataLoader(Numbered(5), batchSize: 5, transforms: [new RandomCrop(3, padding: 0), new Normalize([0.5f], [2f])]);
        Assert.Equal(new ImageShape(1, 3, 3), loader.OutputShape);
        var b = loader.GetEpoch(0).Single();
        Assert.Equal([5, 1, 3, 3], b.Images.Shape);
    }
}
