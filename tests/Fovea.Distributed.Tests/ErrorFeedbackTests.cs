using Fovea.Distributed.Compression;

namespace Fovea.Distributed.Tests;

public class ErrorFeedbackTests
{
    private static float[] Dense(ReadOnlySpan<GradientEntry> sent, int n)
    {
        var d = new float[n];
        GradientEntry.AddTo(sent, d);
        return d;
    }

    [Fact]
    public void Sent_plus_retained_equals_gradient_plus_previous_residual_exactly_at_every_step()
    {
        const int n = 1000, k = 10;
        var rng = new Random(3);
        var ef = new ErrorFeedback(n, k);
        var sent = new GradientEntry[k];
        for (int step = 0; step < 20; step++)
        {
            var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.01f).ToArray();
            // What this step must account for: g' = g + residual, the same float addition the compressor does.
            var want = new float[n];
            for (int i = 0; i < n; i++) want[i] = g[i] + ef.Residual[i];
            ef.Compress(g, sent);

            var dense = Dense(sent, n);
            var residual = ef.Residual.ToArray();
            for (int i = 0; i < n; i++) Assert.Equal(want[i], dense[i] + residual[i]);
            // Each entry is in exactly one of the two, and the sent ones are g''s top k.
            Assert.All(sent, e => Assert.Equal(0f, residual[e.Index]));
            var top = new int[k];
            TopKSelection.SelectReference(want, k, top);
            Assert.Equal(top, sent.Select(e => e.Index));
            Assert.Contains(residual, r => r != 0f);
        }
    }

    [Fact]
    public void Over_many_steps_everything_not_sent_is_still_in_the_residual()
    {
        // Small integers add exactly in float, so the totals must match to the last bit.
        const int n = 257, k = 3;
        var rng = new Random(8);
        var ef = new ErrorFeedback(n, k);
        var sent = new GradientEntry[k];
        var totalGradient = new float[n];
        var totalSent = new float[n];
        var everSent = new bool[n];
        for (int step = 0; step < 200; step++)
        {
            var g = Enumerable.Range(0, n).Select(_ => (float)(rng.Next(9) - 4)).ToArray();
            for (int i = 0; i < n; i++) totalGradient[i] += g[i];
            ef.Compress(g, sent);
            foreach (var e in sent) { totalSent[e.Index] += e.Value; everSent[e.Index] = true; }
        }
        for (int i = 0; i < n; i++) Assert.Equal(totalGradient[i], totalSent[i] + ef.Residual[i]);
        Assert.True(everSent.Count(s => s) > 3 * k, "error feedback must let other entries than the first top k through");
    }

    [Fact]
    public void With_momentum_correction_the_velocity_takes_the_gradients_place_and_is_masked_where_sent()
    {
        const int n = 500, k = 5;
        const float m = 0.9f;
        var rng = new Random(4);
        var ef = new ErrorFeedback(n, k, m);
        var sent = new GradientEntry[k];
        for (int step = 0; step < 15; step++)
        {
            var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            var residualBefore = ef.Residual.ToArray();
            var velocityBefore = ef.Velocity.ToArray();
            ef.Compress(g, sent);
            var isSent = new bool[n];
            foreach (var e in sent)
            {
                isSent[e.Index] = true;
                // Sent: residual + (m u + g), and both buffers cleared there.
                Assert.Equal(residualBefore[e.Index] + (m * velocityBefore[e.Index] + g[e.Index]), e.Value, 5);
                Assert.Equal(0f, ef.Residual[e.Index]);
                Assert.Equal(0f, ef.Velocity[e.Index]);
            }
            for (int i = 0; i < n; i++)
            {
                if (isSent[i]) continue;
                Assert.Equal(m * velocityBefore[i] + g[i], ef.Velocity[i], 5);
                // Kept: exactly the previous residual plus this step's velocity, the addition the compressor made.
                Assert.Equal(residualBefore[i] + ef.Velocity[i], ef.Residual[i]);
            }
            Assert.Contains(ef.Velocity.ToArray(), v => v != 0f);
        }
    }

    [Fact]
    public void Ratio_one_sends_everything_and_keeps_nothing()
    {
        var g = new float[] { 1f, -2f, 0f, 3.5f };
        var ef = new ErrorFeedback(g.Length, GradientCompression.TopK(1.0).SelectedCount(g.Length));
        var sent = new GradientEntry[ef.Selected];
        ef.Compress(g, sent);
        Assert.Equal(g, Dense(sent, g.Length));
        Assert.All(ef.Residual.ToArray(), r => Assert.Equal(0f, r));
    }
}

public class GradientCompressionSettingTests
{
    [Theory]
    [InlineData("none", 0d)]
    [InlineData("topk:0.01", 0.01)]
    [InlineData("TopK:1", 1d)]
    [InlineData("topk:1e-3", 0.001)]
    public void Parses_what_the_command_line_gives(string text, double ratio)
    {
        var c = GradientCompression.Parse(text);
        Assert.Equal(ratio, c.Ratio);
        Assert.Equal(c, GradientCompression.Parse(c.ToString()));
    }

    [Theory]
    [InlineData("topk:0")]
    [InlineData("topk:1.5")]
    [InlineData("topk:-0.1")]
    [InlineData("topk:")]
    [InlineData("topk:abc")]
    [InlineData("top1")]
    [InlineData("")]
    public void Refuses_anything_else_naming_what_it_expects(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => GradientCompression.Parse(text));
        Assert.Contains("'none' or 'topk:RATIO' with RATIO in (0, 1]", e.Message);
    }

    [Fact]
    public void Momentum_correction_is_for_top_k_only_and_shows_in_the_description()
    {
        Assert.Throws<InvalidOperationException>(() => GradientCompression.None.WithMomentumCorrection(0.9f));
        Assert.Throws<ArgumentException>(() => GradientCompression.TopK(0.01).WithMomentumCorrection(1f));
        var c = GradientCompression.TopK(0.01).WithMomentumCorrection(0.9f);
        Assert.Equal(0.9f, c.Momentum);
        Assert.Equal("topk:0.01", c.ToString());
        Assert.Equal("topk:0.01 with error feedback and momentum correction 0.9", c.Describe());
        Assert.Equal("topk:0.01 with error feedback", GradientCompression.TopK(0.01).Describe());
    }

    [Fact]
    public void One_percent_sends_at_most_a_fiftieth_of_the_dense_bytes()
    {
        var c = GradientCompression.TopK(0.01);
        foreach (int n in new[] { 100, 235, 61_706, 61_100_840, 138_357_544 })
        {
            Assert.True(c.BytesPerStep(n) * 50 <= GradientCompression.None.BytesPerStep(n), $"n = {n}: {c.BytesPerStep(n)} bytes");
            Assert.Equal(8L * (n / 100), c.BytesPerStep(n));
        }
        Assert.Equal(1, c.SelectedCount(7)); // never nothing
        Assert.Equal(4L * 61_706, GradientCompression.None.BytesPerStep(61_706));
    }
}
