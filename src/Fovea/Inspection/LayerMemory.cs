namespace Fovea.Inspection;

/// <summary>
/// The bytes one leaf layer costs on the CPU backend, in a training step and in inference, as part of a
/// <see cref="MemoryFootprint"/>. Everything an op allocates inside a step stays lent from the step's pool until the
/// step ends (see <see cref="StepMemory"/>), so the step buffers below add up rather than overlap.
/// </summary>
/// <param name="Name">Dotted module name, as in <see cref="LayerSummary.Name"/>.</param>
/// <param name="Type">PyTorch's class name.</param>
/// <param name="ParametersBytes">The layer's learnable parameters and buffers (running statistics).</param>
/// <param name="GradientsBytes">The parameters' <c>Grad</c> tensors, which outlive the step.</param>
/// <param name="OptimizerBytes">The optimiser's state for the layer's parameters (momentum buffer, Adam's moments).</param>
/// <param name="ActivationsBytes">
/// What the training forward allocates: the output and whatever the op keeps for its backward (max pooling's
/// int64 indices, dropout's mask, batch norm's statistics, LRN's scale).
/// </param>
/// <param name="BackwardBytes">
/// What the backward allocates from the step's pool: the input's gradient, and this step's parameter gradients
/// before the engine adds them into <c>Grad</c>.
/// </param>
/// <param name="WorkspaceBytes">The most convolution scratch (im2col columns, Winograd tiles, FFT spectra) one of its training passes holds at once.</param>
/// <param name="InferenceActivationsBytes">What the forward allocates in evaluation mode without gradients.</param>
/// <param name="InferenceWorkspaceBytes">The forward pass's scratch. (A model's total is not the largest layer's: see <see cref="MemoryFootprint.WorkspaceBytes"/>.)</param>
public sealed record LayerMemory(string Name, string Type, long ParametersBytes, long GradientsBytes, long OptimizerBytes,
    long ActivationsBytes, long BackwardBytes, long WorkspaceBytes, long InferenceActivationsBytes, long InferenceWorkspaceBytes);
