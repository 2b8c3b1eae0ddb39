using Fovea.Data.Transforms;

namespace Fovea.Data.Tests;

public class TransformTests
{
    private static float[] Apply(ITransform t, float[] src, ImageShape shape, ulong seed = 1)
    {
        var dst = new float[t.OutputShape(shape).Length];
        var rng = new SampleRandom(seed);
        t.Apply(src, shape, dst, ref rng);
        return dst;
    }

    [Fact]
    public void Normalize_per_channel()
    {
        float[] src = [0f, 0.5f, 1f, 0.25f, /* channel 1 */ 0f, 0.5f, 1f, 0.75f];
        var dst = Apply(new Normalize([0.5f, 0.25f], [0.5f, 0.25f]), src, new ImageShape(2, 2, 2));
        float[] want = [-1f, 0f, 1f, -0.5f, -1f, 1f, 3f, 2f];
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], dst[i], 6);

        var single = Apply(new Normalize([0.1307f], [0.3081f]), [0.1307f, 1f], new ImageShape(1, 1, 2));
        Assert.Equal(0f, single[0], 6);
        Assert.Equal((1 - 0.1307f) / 0.3081f, single[1], 5);

        Assert.Throws<ArgumentException>(() => new Normalize([0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => new Normalize([0.5f, 0.5f], [1f]));
        Assert.Throws<ArgumentException>(() => Apply(new Normalize([0f, 0f], [1f, 1f]), new float[12], new ImageShape(3, 2, 2)));
    }

    [Fact]
    public void Horizontal_flip_of_a_2x3_image()
    {
        float[] src = [1, 2, 3, 4, 5, 6];
        var shape = new ImageShape(1, 2, 3);
        Assert.Equal([3f, 2, 1, 6, 5, 4], Apply(new RandomHorizontalFlip(p: 1), src, shape));
        Assert.Equal(src, Apply(new RandomHorizontalFlip(p: 0), src, shape));

        // With p = 0.5 about half of the samples flip.
        int flips = 0;
        for (ulong s = 0; s < 1000; s++)
            if (Apply(new RandomHorizontalFlip(), src, shape, s)[0] == 3f) flips++;
        Assert.InRange(flips, 430, 570);
    }

    [Fact]
    public void Horizontal_flip_mirrors_every_channel()
    {
        float[] src = [1, 2, 3, 4, /* c1 */ 5, 6, 7, 8];
        Assert.Equal([2f, 1, 4, 3, 6, 5, 8, 7], Apply(new RandomHorizontalFlip(1), src, new ImageShape(2, 2, 2)));
    }

    [Fact]
    public void Random_crop_with_padding_2_holds_a_window_of_the_padded_image()
    {
        // A 4×4 image with values 1..16, padded by 2 on each side (8×8 with zeros), then cropped 4×4.
        var shape = new ImageShape(1, 4, 4);
        var src = Enumerable.Range(1, 16).Select(v => (float)v).ToArray();
        var padded = new float[8 * 8];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) padded[(y + 2) * 8 + x + 2] = src[y * 4 + x];

        var crop = new RandomCrop(4, padding: 2);
        var offsets = new HashSet<(int, int)>();
        for (ulong seed = 0; seed < 400; seed++)
        {
            var dst = Apply(crop, src, shape, seed);
            // Find the (unique) window of the padded image that equals the output.
            var matches = new List<(int, int)>();
            for (int top = 0; top <= 4; top++)
                for (int left = 0; left <= 4; left++)
                {
                    bool same = true;
                    for (int y = 0; y < 4 && same; y++)
                        for (int x = 0; x < 4 && same; x++) same = dst[y * 4 + x] == padded[(top + y) * 8 + left + x];
                    if (same) matches.Add((top, left));
                }
            Assert.Single(matches);
            offsets.Add(matches[0]);
        }
        Assert.Equal(25, offsets.Count); // every one of the 5×5 positions occurs

        // The extreme position: top-left corner of the padded image → zeros in the first two rows and columns.
        var corner = new float[16];
        RandomCrop.Crop(src, shape, corner, top: -2, left: -2, height: 4, width: 4);
        Assert.Equal([0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 5, 6], corner);
    }

    [Fact]
    public void Random_crop_to_a_smaller_size_changes_the_shape()
    {
        var crop = new RandomCrop(2, padding: 0);
        Assert.Equal(new ImageShape(3, 2, 2), crop.OutputShape(new ImageShape(3, 5, 5)));
        var src = Enumerable.Range(0, 75).Select(v => (float)v).ToArray();
        var dst = Apply(crop, src, new ImageShape(3, 5, 5), 9);
        // Same window in every channel: channel c is channel 0 plus 25c.
        for (int c = 1; c < 3; c++)
            for (int i = 0; i < 4; i++) Assert.Equal(dst[i] + 25 * c, dst[c * 4 + i]);
        Assert.Throws<ArgumentException>(() => Apply(new RandomCrop(8, 1), src, new ImageShape(3, 5, 5)));
    }

    [Fact]
    public void Compose_runs_in_order()
    {
        var t = new Compose(new RandomHorizontalFlip(1), new Normalize([1f], [2f]));
        Assert.Equal([1f, 0.5f, 0f], Apply(t, [1f, 2f, 3f], new ImageShape(1, 1, 3)));
    }

    [Fact]
    public void Sample_random_is_reproducible_and_spread()
    {
        var a = SampleRandom.For(1, 2, 3);
        var b = SampleRandom.For(1, 2, 3);
        var c = SampleRandom.For(1, 2, 4);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.NotEqual(a.NextUInt64(), c.NextUInt64());
        var counts = new int[6];
        var r = new SampleRandom(42);
        for (int i = 0; i < 60_000; i++) counts[r.NextInt(6)]++;
        Assert.All(counts, n => Assert.InRange(n, 9_500, 10_500));
        // Fixed values: the split of the MNIST files depends on this stream never changing.
        Assert.Equal(0xE220A8397B1DCDAFUL, new SampleRandom(0).NextUInt64());
    }
}
