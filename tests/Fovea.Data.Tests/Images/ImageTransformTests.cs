using Fovea.Data.Images;
using Fovea.Data.Transforms;
using Fovea.NN;

namespace Fovea.Data.Tests.Images;

public sealed class ImageTransformTests
{
    private static float[] Run(ITransform t, float[] src, ImageShape shape, ulong seed = 1)
    {
        var dst = new float[t.OutputShape(shape).Length];
        var rng = new SampleRandom(seed);
        t.Apply(src, shape, dst, ref rng);
        return dst;
    }

    [Fact]
    public void Shorter_side_size_keeps_the_aspect_ratio_like_torchvision()
    {
        Assert.Equal((256, 341), ImageResize.ShorterSideSize(375, 500, 256)); // 256·500/375 = 341.3, truncated
        Assert.Equal((341, 256), ImageResize.ShorterSideSize(500, 375, 256));
        Assert.Equal((256, 256), ImageResize.ShorterSideSize(100, 100, 256));
    }

    [Fact]
    public void Upscaling_is_bilinear_between_half_pixel_centres_and_clamps_at_the_edges()
    {
        var dst = new float[4];
        ImageResize.Resize([0f, 1f], new ImageShape(1, 1, 2), dst, 1, 4);
        // Output centres 0.25, 0.75, 1.25, 1.75 in source pixels; source centres at 0.5 and 1.5.
        Assert.Equal([0f, 0.25f, 0.75f, 1f], dst);
    }

    [Fact]
    public void Downscaling_widens_the_triangle_over_every_covered_pixel()
    {
        var dst = new float[2];
        ImageResize.Resize([0f, 1f, 2f, 3f], new ImageShape(1, 1, 4), dst, 1, 2);
        // Scale 2: the triangle spans ±2 source pixels. Output 0 (centre 1) weighs pixels 0, 1, 2 by 0.75, 0.75, 0.25.
        Assert.Equal((0.75f * 0 + 0.75f * 1 + 0.25f * 2) / 1.75f, dst[0], 6);
        Assert.Equal((0.25f * 1 + 0.75f * 2 + 0.75f * 3) / 1.75f, dst[1], 6);
    }

    [Fact]
    public void Resize_keeps_a_constant_image_and_a_window_equals_the_crop_of_the_full_resize()
    {
        var shape = new ImageShape(2, 7, 11);
        var src = Enumerable.Range(0, shape.Length).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        var full = new float[2 * 9 * 5];
        ImageResize.Resize(src, shape, full, 9, 5);
        var window = new float[2 * 4 * 3];
        ImageResize.ResizeWindow(src, shape, window, 9, 5, 2, 1, 4, 3);
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 3; x++)
                    Assert.Equal(full[(c * 9 + y + 2) * 5 + x + 1], window[(c * 4 + y) * 3 + x], 6);

        var flat = Enumerable.Repeat(0.3f, 3 * 10 * 20).ToArray();
        var small = new float[3 * 4 * 8];
        ImageResize.Resize(flat, new ImageShape(3, 10, 20), small, 4, 8);
        Assert.All(small, v => Assert.Equal(0.3f, v, 6));
    }

    [Fact]
    public void Center_crop_takes_the_middle_rounding_half_to_even()
    {
        var img = Enumerable.Range(0, 16).Select(i => (float)i).ToArray(); // 4x4: row y holds 4y..4y+3
        Assert.Equal([5f, 6f, 9f, 10f], Run(new CenterCrop(2), img, new ImageShape(1, 4, 4)));
        Assert.Equal(16, CenterCrop.Offset(256, 224));
        Assert.Equal(2, CenterCrop.Offset(5, 2)); // round(1.5) = 2, as Python rounds
        Assert.Equal(2, CenterCrop.Offset(7, 2)); // round(2.5) = 2
        var wide = Enumerable.Range(0, 10).Select(i => (float)i).ToArray(); // 1x2x5
        Assert.Equal([2f, 3f, 7f, 8f], Run(new CenterCrop(2), wide, new ImageShape(1, 2, 5)));
    }

    [Fact]
    public void Training_recipe_crops_flips_jitters_and_normalises()
    {
        var t = ImageNetPreprocessing.Train(crop: 4);
        Assert.Collection(t,
            x => Assert.Equal(4, Assert.IsType<RandomCrop>(x).Height),
            x => Assert.IsType<RandomHorizontalFlip>(x),
            x => Assert.Equal(0.1, Assert.IsType<PcaLighting>(x).AlphaStd),
            x => Assert.IsType<Normalize>(x));
        Assert.Equal(new ImageShape(3, 4, 4), new Compose(t).OutputShape(new ImageShape(3, 8, 8)));
        Assert.Equal(3, ImageNetPreprocessing.Train(4, channels: 1).Length); // grey: crop, flip, normalise (no PCA)
        Assert.Equal(new ImageShape(3, 4, 4), new Compose(ImageNetPreprocessing.Eval(4)).OutputShape(new ImageShape(3, 8, 8)));
    }

    [Fact]
    public void ImageNet_normalisation_maps_the_mean_to_zero_and_one_std_to_one()
    {
        var shape = new ImageShape(3, 1, 2);
        float[] img = [0.485f, 0.485f + 0.229f, 0.456f, 0.456f - 0.224f, 0.406f, 0.406f + 2 * 0.225f];
        var o = Run(ImageNetPreprocessing.Normalize(), img, shape);
        float[] expected = [0, 1, 0, -1, 0, 2];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], o[i], 5);
    }

    [Fact]
    public void Pca_lighting_adds_one_colour_shift_along_the_eigenvectors()
    {
        var shape = new ImageShape(3, 2, 3);
        var img = Enumerable.Range(0, shape.Length).Select(i => i / 20f).ToArray();
        Assert.Equal(img, Run(new PcaLighting(0), img, shape));

        var pca = new PcaLighting(0.1);
        // α = (1, 0, 0): the first eigenvector times the first eigenvalue.
        var s = pca.Shift([1.0, 0, 0]);
        Assert.Equal(-0.5675f * 0.2175f, s[0], 6);
        Assert.Equal(-0.5808f * 0.2175f, s[1], 6);
        Assert.Equal(-0.5836f * 0.2175f, s[2], 6);
        var s2 = pca.Shift([0, 2.0, -1.0]);
        Assert.Equal(2 * 0.7192f * 0.0188f - 0.4009f * 0.0045f, s2[0], 6);

        var a = Run(pca, img, shape, 42);
        var b = Run(pca, img, shape, 42);
        Assert.Equal(a, b); // same stream, same jitter
        Assert.NotEqual(a, Run(pca, img, shape, 43));
        // One shift per channel, the same at every pixel.
        for (int c = 0; c < 3; c++)
        {
            float d0 = a[c * 6] - img[c * 6];
            for (int i = 1; i < 6; i++) Assert.Equal(d0, a[c * 6 + i] - img[c * 6 + i], 5);
        }
        Assert.Throws<ArgumentException>(() => Run(pca, new float[4], new ImageShape(1, 2, 2)));
    }

    [Fact]
    public void Pca_lighting_alpha_has_the_asked_spread()
    {
        var pca = new PcaLighting(0.1);
        var shape = new ImageShape(3, 1, 1);
        // The red shift is dominated by component 0: its spread is about 0.1 · 0.2175 · 0.5675 ≈ 0.0123.
        var reds = Enumerable.Range(0, 4000).Select(i => (double)Run(pca, new float[3], shape, (ulong)i * 7919)[0]).ToArray();
        double mean = reds.Average(), sd = Math.Sqrt(reds.Select(r => (r - mean) * (r - mean)).Average());
        double expected = 0.1 * Math.Sqrt(Math.Pow(0.5675 * 0.2175, 2) + Math.Pow(0.7192 * 0.0188, 2) + Math.Pow(0.4009 * 0.0045, 2));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(sd, expected * 0.93, expected * 1.07);
    }

    [Fact]
    public void Ten_crop_cuts_corners_centre_and_their_mirrors()
    {
        var shape = new ImageShape(1, 3, 3);
        var img = Enumerable.Range(0, 9).Select(i => (float)i).ToArray(); // rows 0 1 2 / 3 4 5 / 6 7 8
        var crops = new float[10 * 4];
        TenCrop.Crops(img, shape, 2, crops);
        float[][] expected =
        [
            [0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8], [0, 1, 3, 4], // centre of 3 with 2: offset round(0.5) = 0
            [2, 1, 5, 4], [1, 0, 4, 3], [5, 4, 8, 7], [4, 3, 7, 6], [2, 1, 5, 4],
        ];
        for (int k = 0; k < 10; k++) Assert.Equal(expected[k], crops[(k * 4)..(k * 4 + 4)]);
    }

    [Fact]
    public void Ten_crop_prediction_averages_the_softmax_of_the_ten_crops()
    {
        var model = new Sequential(new Flatten(), new Linear(4, 3, generator: new Generator(3)));
        model.Eval();
        var shape = new ImageShape(1, 3, 3);
        var img = Enumerable.Range(0, 18).Select(i => (float)Math.Cos(i)).ToArray(); // two images
        var p = TenCrop.Predict(model, Tensor.FromArray(img, [2, 1, 3, 3]), 2).ToArray();
        Assert.Equal(6, p.Length);
        for (int n = 0; n < 2; n++)
        {
            var crops = new float[40];
            TenCrop.Crops(img.AsSpan(n * 9, 9), shape, 2, crops);
            var probs = Functional.Softmax(model.Forward(Tensor.FromArray(crops, [10, 1, 2, 2])), 1).ToArray();
            for (int c = 0; c < 3; c++)
            {
                double mean = Enumerable.Range(0, 10).Average(k => probs[k * 3 + c]);
                Assert.Equal(mean, p[n * 3 + c], 5);
            }
        }
        var m = TenCrop.Evaluate(model, [(Tensor.FromArray(img, [2, 1, 3, 3]), Tensor.FromArray(new long[] { 0, 2 }, [2]))], 2, 3);
        Assert.Equal(2, m.Count);
        double nll = -(Math.Log(p[0]) + Math.Log(p[5])) / 2;
        Assert.Equal(nll, m.Loss, 4);
    }
}
