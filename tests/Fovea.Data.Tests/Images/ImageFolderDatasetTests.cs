using Fovea.Data.Images;
using SkiaSharp;

namespace Fovea.Data.Tests.Images;

public sealed class ImageFolderDatasetTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root => _dir.Path;

    private string P(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Two classes (folder names sorted: "n01_cat" before "n02_dog"), colour and grey, JPEG and PNG, several sizes.</summary>
    private void MakeFolder()
    {
        // class 0: a red 40x30 PNG, a grey 20x50 PNG (value 128), a left-black/right-white 64x32 JPEG.
        TestImages.WriteColour(P("n01_cat", "a_red.png"), 40, 30, (_, _) => new SKColor(255, 0, 0), SKEncodedImageFormat.Png);
        TestImages.WriteGrey(P("n01_cat", "b_grey.png"), 20, 50, (_, _) => 128, SKEncodedImageFormat.Png);
        TestImages.WriteColour(P("n01_cat", "c_halves.jpg"), 64, 32, (x, _) => x < 32 ? SKColors.Black : SKColors.White, SKEncodedImageFormat.Jpeg);
        // class 1: a blue JPEG in a sub-folder, a grey JPEG.
        TestImages.WriteColour(P("n02_dog", "sub", "blue.JPEG"), 33, 47, (_, _) => new SKColor(0, 0, 255), SKEncodedImageFormat.Jpeg);
        TestImages.WriteGrey(P("n02_dog", "grey.jpg"), 30, 30, (x, y) => (byte)(x * 8), SKEncodedImageFormat.Jpeg);
        File.WriteAllText(P("n02_dog", "notes.txt"), "not an image");
    }

    [Fact]
    public void Classes_are_sorted_folders_and_every_sample_has_the_fixed_shape()
    {
        MakeFolder();
        var ds = new ImageFolderDataset(Root, size: 16, warn: _ => { });
        Assert.Equal(["n01_cat", "n02_dog"], ds.ClassNames);
        Assert.Equal(5, ds.Count);
        Assert.Equal(new ImageShape(3, 16, 16), ds.SampleShape);
        Assert.Equal([0L, 0, 0, 1, 1], Enumerable.Range(0, 5).Select(ds.GetLabel));
        Assert.EndsWith("a_red.png", ds.FilePath(0));
        Assert.EndsWith("grey.jpg", ds.FilePath(3)); // "grey.jpg" < "sub/blue.JPEG" ordinally
        Assert.Empty(ds.Skipped);
        var img = new float[ds.SampleShape.Length];
        for (int i = 0; i < ds.Count; i++)
        {
            ds.GetImage(i, img);
            Assert.All(img, v => Assert.InRange(v, 0f, 1f));
        }
    }

    [Fact]
    public void Colour_and_grey_pixels_come_out_right()
    {
        MakeFolder();
        var rgb = new ImageFolderDataset(Root, size: 16, warn: _ => { });
        var (red, _) = rgb.Get(0);
        Assert.All(red[..256], v => Assert.Equal(1f, v, 5));
        Assert.All(red[256..], v => Assert.Equal(0f, v, 5));
        var (grey, _) = rgb.Get(1); // replicated to three equal channels
        Assert.All(grey, v => Assert.Equal(128 / 255f, v, 5));
        var (blue, _) = rgb.Get(4); // JPEG: within a few levels
        Assert.All(blue[512..], v => Assert.InRange(v, 0.95f, 1f));
        Assert.All(blue[..512], v => Assert.InRange(v, 0f, 0.05f));

        var one = new ImageFolderDataset(Root, size: 16, channels: 1, warn: _ => { });
        Assert.Equal(new ImageShape(1, 16, 16), one.SampleShape);
        var (redLuma, _) = one.Get(0); // colour to luma: 0.299 R
        Assert.All(redLuma, v => Assert.Equal(0.299f, v, 3));
        var (greyOne, _) = one.Get(1);
        Assert.All(greyOne, v => Assert.Equal(128 / 255f, v, 5));
    }

    [Fact]
    public void A_wide_image_is_resized_by_its_shorter_side_then_centre_cropped()
    {
        MakeFolder();
        var ds = new ImageFolderDataset(Root, size: 16, channels: 1, warn: _ => { });
        // 64x32 (black left half, white right half) → 32x16 → centre 16x16 = columns 8..23 of the resized image:
        // the left 8 columns black, the right 8 white (JPEG ringing aside, away from the edge).
        var (img, label) = ds.Get(2);
        Assert.Equal(0, label);
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 6; x++) Assert.InRange(img[y * 16 + x], 0f, 0.08f);
            for (int x = 10; x < 16; x++) Assert.InRange(img[y * 16 + x], 0.92f, 1f);
        }
        // The grey ramp (value 8x across) keeps increasing from left to right.
        var (ramp, _) = ds.Get(3);
        Assert.True(ramp[8 * 16 + 15] > ramp[8 * 16 + 8] && ramp[8 * 16 + 8] > ramp[8 * 16 + 0]);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_skipped_with_a_warning_naming_it()
    {
        MakeFolder();
        File.WriteAllBytes(P("n01_cat", "broken.jpg"), [1, 2, 3, 4, 5, 6, 7, 8]);
        var warnings = new List<string>();
        var ds = new ImageFolderDataset(Root, size: 16, warn: warnings.Add);
        Assert.Equal(5, ds.Count);
        var skipped = Assert.Single(ds.Skipped);
        Assert.EndsWith("broken.jpg", skipped);
        Assert.Contains(warnings, w => w.Contains("broken.jpg"));
        // The decoder's own words stay out of the message (SkiaSharp calls an unknown format "Unimplemented").
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(skipped));
        Assert.EndsWith("broken.jpg' is not a PNG or JPEG image this build can decode", e.Message);
    }

    [Fact]
    public void A_truncated_jpeg_is_replaced_by_another_image_of_its_class_or_skipped_when_verified()
    {
        MakeFolder();
        // A large, noisy JPEG, so its header is a small part of it and the cut lands in the entropy-coded data.
        var big = P("big.jpg");
        TestImages.WriteColour(big, 256, 256, (x, y) => new SKColor((byte)(x * 37 ^ y * 11), (byte)(x * y), (byte)(x + 3 * y)), SKEncodedImageFormat.Jpeg);
        var good = File.ReadAllBytes(big);
        File.Delete(big);
        File.WriteAllBytes(P("n02_dog", "a_truncated.jpg"), good[..(good.Length / 2)]);
        var warnings = new List<string>();
        var lazy = new ImageFolderDataset(Root, size: 16, warn: warnings.Add);
        Assert.Equal(6, lazy.Count); // the header is fine: found only when read
        int t = Enumerable.Range(0, lazy.Count).Single(i => lazy.FilePath(i).EndsWith("a_truncated.jpg"));
        var (img, label) = lazy.Get(t);
        Assert.Equal(1, label);
        Assert.Equal(lazy.Get(t + 1).Image, img); // the next image of the same class stands in
        Assert.Equal(1, lazy.FailedReads);
        Assert.Contains(warnings, w => w.Contains("a_truncated.jpg"));
        lazy.Get(t);
        Assert.Equal(1, lazy.FailedReads); // counted and warned once

        var verified = new ImageFolderDataset(Root, size: 16, verify: true, warn: _ => { });
        Assert.Equal(5, verified.Count);
        Assert.EndsWith("a_truncated.jpg", Assert.Single(verified.Skipped));
    }

    [Fact]
    public void A_large_jpeg_is_decoded_at_a_reduced_scale_that_keeps_the_shorter_side_long_enough()
    {
        var path = P("big", "photo.jpg");
        TestImages.WriteColour(path, 1024, 768, (x, y) => new SKColor((byte)(x / 4), (byte)(y / 3), (byte)((x + y) / 8)), SKEncodedImageFormat.Jpeg);
        Assert.Equal(new ImageShape(3, 768, 1024), ImageDecoder.Decode(path).Shape);
        Assert.Equal(new ImageShape(3, 96, 128), ImageDecoder.Decode(path, shorterSideAtLeast: 64).Shape);   // 1/8
        Assert.Equal(new ImageShape(3, 192, 256), ImageDecoder.Decode(path, shorterSideAtLeast: 100).Shape); // 1/4
        Assert.Equal(new ImageShape(3, 768, 1024), ImageDecoder.Decode(path, shorterSideAtLeast: 500).Shape);

        // The sample is close to the one made from the full decode (a smooth gradient: within a few levels).
        var (full, shape) = ImageDecoder.Decode(path);
        var reference = new float[3 * 64 * 64];
        ImageFolderDataset.ResizeShorterAndCenterCrop(full, shape, reference, 64);
        var ds = new ImageFolderDataset(Root, size: 64, warn: _ => { }); // one class, "big"
        var (fast, _) = ds.Get(0);
        double worst = reference.Zip(fast, (a, c) => Math.Abs(a - c)).Max();
        Assert.True(worst < 0.03, $"largest difference {worst}");
    }

    [Fact]
    public void Validation_folder_takes_the_training_classes()
    {
        MakeFolder();
        using var valDir = new TempDir();
        TestImages.WriteColour(Path.Combine(valDir.Path, "n02_dog", "x.png"), 10, 10, (_, _) => SKColors.Green, SKEncodedImageFormat.Png);
        var train = new ImageFolderDataset(Root, size: 8, warn: _ => { });
        var warnings = new List<string>();
        var val = new ImageFolderDataset(valDir.Path, size: 8, classes: train.ClassNames, warn: warnings.Add);
        Assert.Equal(train.ClassNames, val.ClassNames);
        Assert.Equal(1L, val.GetLabel(0));
        Assert.Contains(warnings, w => w.Contains("n01_cat"));
    }

    [Fact]
    public void Missing_or_empty_folders_are_clear_errors()
    {
        Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderDataset(P("nope")));
        Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(Root));
        Directory.CreateDirectory(P("empty_class"));
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(Root, warn: _ => { }));
        Assert.Contains(Root, e.Message);
    }

    [Fact]
    public void The_loader_decodes_on_worker_threads_and_gives_the_same_batches_as_without()
    {
        MakeFolder();
        var ds = new ImageFolderDataset(Root, size: 16, warn: _ => { });
        var transforms = ImageNetPreprocessing.Train(crop: 12);
        using var serial = new DataLoader(ds, 2, shuffle: true, seed: 3, transforms: transforms);
        using var parallel = new DataLoader(ds, 2, shuffle: true, seed: 3, transforms: transforms, numWorkers: 2);
        var a = serial.GetEpoch(1).ToList();
        var b = parallel.GetEpoch(1).ToList();
        Assert.Equal(3, a.Count);
        Assert.Equal([2, 3, 12, 12], a[0].Images.Shape);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Images.ToArray(), b[i].Images.ToArray());
            Assert.Equal(a[i].Labels.ToLongArray(), b[i].Labels.ToLongArray());
        }
        using var eval = new DataLoader(ds, 5, transforms: ImageNetPreprocessing.Eval(crop: 12));
        Assert.Equal([5, 3, 12, 12], eval.GetEpoch(0).Single().Images.Shape);
    }
}
