using Fovea.NN;
using Fovea.Training;

namespace Fovea.Data.Images;

/// <summary>
/// AlexNet's test-time augmentation: the four corner crops and the centre crop of each image and of its mirror
/// image (torchvision's <c>TenCrop</c> order: top-left, top-right, bottom-left, bottom-right, centre, then the same
/// five of the flipped image), with the network's softmax averaged over the ten.
/// </summary>
public static class TenCrop
{
    /// <summary>The top-left corners of the five crops of size <paramref name="crop"/> in an H×W image.</summary>
    public static (int Top, int Left)[] FiveCropOrigins(int height, int width, int crop)
    {
        if (crop > height || crop > width) throw new ArgumentException($"a {crop}x{crop} crop does not fit in {height}x{width}");
        return [(0, 0), (0, width - crop), (height - crop, 0), (height - crop, width - crop),
            (CenterCrop.Offset(height, crop), CenterCrop.Offset(width, crop))];
    }

    /// <summary>Cuts the ten crops of one CHW image into <paramref name="destination"/>: ten images of C×crop×crop,
    /// one after another.</summary>
    public static void Crops(ReadOnlySpan<float> source, ImageShape shape, int crop, Span<float> destination)
    {
        var outShape = new ImageShape(shape.Channels, crop, crop);
        int n = outShape.Length;
        if (destination.Length < 10 * n) throw new ArgumentException($"destination holds {destination.Length} floats, ten crops need {10 * n}");
        var flipped = new float[shape.Length];
        Fovea.Data.Transforms.RandomHorizontalFlip.Flip(source, shape, flipped);
        var origins = FiveCropOrigins(shape.Height, shape.Width, crop);
        for (int k = 0; k < 5; k++)
        {
            Fovea.Data.Transforms.RandomCrop.Crop(source, shape, destination.Slice(k * n, n), origins[k].Top, origins[k].Left, crop, crop);
            Fovea.Data.Transforms.RandomCrop.Crop(flipped, shape, destination.Slice((5 + k) * n, n), origins[k].Top, origins[k].Left, crop, crop);
        }
    }

    /// <summary>Class probabilities [N, classes] of a batch [N, C, H, W] (already normalised): the mean of the
    /// softmax over the ten crops of each image. Runs without recording gradients.</summary>
    public static Tensor Predict(Module model, Tensor images, int crop)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4) throw new ArgumentException($"expected a batch [N, C, H, W], got {images.ShapeString}");
        int n = images.Size(0);
        var shape = new ImageShape(images.Size(1), images.Size(2), images.Size(3));
        var src = images.Contiguous().ToArray();
        int len = shape.Channels * crop * crop;
        var all = new float[n * 10 * len];
        for (int i = 0; i < n; i++)
            Crops(src.AsSpan(i * shape.Length, shape.Length), shape, crop, all.AsSpan(i * 10 * len, 10 * len));
        using (GradMode.NoGrad())
        {
            var logits = model.Forward(Tensor.FromArray(all, [n * 10, shape.Channels, crop, crop], images.Device));
            int k = logits.Size(1);
            return Functional.Softmax(logits, 1).Reshape(n, 10, k).Mean(1);
        }
    }

    /// <summary>Top-1/top-5 metrics and the confusion matrix with ten-crop averaging; the loss is the mean negative
    /// log of the averaged probability of the true class.</summary>
    public static ClassificationMetrics Evaluate(Module model, IEnumerable<(Tensor Images, Tensor Labels)> batches, int crop, int classes)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var m = new ClassificationMetrics(classes);
        foreach (var (images, labels) in batches)
        {
            var p = Predict(model, images, crop);
            var probs = p.ToArray();
            var y = labels.ToLongArray();
            double nll = 0;
            var logp = new float[probs.Length];
            for (int i = 0; i < probs.Length; i++) logp[i] = MathF.Log(Math.Max(probs[i], 1e-30f));
            for (int i = 0; i < y.Length; i++) nll -= logp[i * classes + y[i]];
            // Log-probabilities rank the classes as the probabilities do, so they serve as the metrics' scores.
            m.Add(Tensor.FromArray(logp, [y.Length, classes]), labels, (float)(nll / Math.Max(1, y.Length)));
        }
        return m;
    }
}
