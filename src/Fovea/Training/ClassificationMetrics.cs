namespace Fovea.Training;

/// <summary>
/// Accumulates classification results batch by batch: loss, top-1 and top-5 accuracy (ILSVRC's top-k: correct when
/// the label is among the k highest scores), per-class accuracy and the confusion matrix (rows: true class).
/// </summary>
public sealed class ClassificationMetrics
{
    private readonly long[,] _confusion;
    private double _lossSum;
    private float[] _scores = [];
    private long[] _labels = [];

    public ClassificationMetrics(int classes)
    {
        if (classes < 1) throw new ArgumentException($"need at least one class, got {classes}");
        Classes = classes;
        _confusion = new long[classes, classes];
    }

    public int Classes { get; }
    public long Count { get; private set; }
    public long Top1Correct { get; private set; }
    public long Top5Correct { get; private set; }

    /// <summary>Adds a batch: logits [B, classes], int64 labels [B], and the batch's mean loss.</summary>
    public void Add(Tensor logits, Tensor labels, float meanLoss)
    {
        int b = labels.NumEl;
        if (logits.NumEl != b * Classes) throw new ArgumentException($"expected logits [{b}, {Classes}], got {logits.ShapeString}");
        // Read into buffers kept from batch to batch: a training loop adds a batch every step.
        if (_scores.Length < logits.NumEl) _scores = new float[logits.NumEl];
        if (_labels.Length < b) _labels = new long[b];
        var scores = _scores;
        var y = _labels;
        logits.CopyTo(scores);
        labels.CopyTo(y);
        for (int i = 0; i < b; i++)
        {
            var row = scores.AsSpan(i * Classes, Classes);
            int label = (int)y[i];
            float target = row[label];
            // Rank of the label = how many classes score strictly higher (ties count in the label's favour).
            int higher = 0, best = 0;
            for (int c = 0; c < Classes; c++)
            {
                if (row[c] > target) higher++;
                if (row[c] > row[best]) best = c;
            }
            if (higher == 0) Top1Correct++;
            if (higher < 5) Top5Correct++;
            _confusion[label, best]++;
        }
        Count += b;
        _lossSum += (double)meanLoss * b;
    }

    public double Loss => Count == 0 ? double.NaN : _lossSum / Count;
    public double Top1Accuracy => Count == 0 ? double.NaN : (double)Top1Correct / Count;
    public double Top5Accuracy => Count == 0 ? double.NaN : (double)Top5Correct / Count;
    public double Top1Error => 1 - Top1Accuracy;
    public double Top5Error => 1 - Top5Accuracy;

    /// <summary>Confusion counts: [true class, predicted class].</summary>
    public long[,] Confusion => (long[,])_confusion.Clone();

    /// <summary>Accuracy of each true class (NaN for classes with no samples).</summary>
    public double[] PerClassAccuracy()
    {
        var o = new double[Classes];
        for (int c = 0; c < Classes; c++)
        {
            long total = 0;
            for (int p = 0; p < Classes; p++) total += _confusion[c, p];
            o[c] = total == 0 ? double.NaN : (double)_confusion[c, c] / total;
        }
        return o;
    }
}
