using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Tests.Readme;

/// <summary>The README's code, compiled: ReadmeTests checks that README.md shows exactly these lines.</summary>
internal static class ReadmeExample
{
    public static float[] Run(int steps)
    {
        var losses = new float[steps];
        // readme-begin
        var model = new Sequential(
            new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),   // 6@28x28 -> 6@14x14
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),              // 16@10x10 -> 16@5x5
            new Flatten(),
            new Linear(16 * 5 * 5, 120), new ReLU(),
            new Linear(120, 84), new ReLU(),
            new Linear(84, 10));
        var optimizer = new SGD(model.Parameters(), lr: 0.05f, momentum: 0.9f);
        var criterion = new CrossEntropyLoss();

        var images = Tensor.Randn([64, 1, 28, 28], new Generator(seed: 0)); // N, C, H, W
        var labels = Tensor.FromArray(new long[64], [64]);                   // class indices
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            var loss = criterion.Forward(model.Forward(images), labels);
            loss.Backward();                                                 // gradients in each Parameter.Grad
            optimizer.Step();
            losses[step] = loss.Item();
        }
        // readme-end
        return losses;
    }
}
