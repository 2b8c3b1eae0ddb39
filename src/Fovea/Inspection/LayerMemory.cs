namespace Fovea.Inspection;

/// <summary>
/// The bytes one leaf layer costs on the CPU backend, in a training step and in inference, as part of a
/// <see cref="MemoryFootprint"/>. What the forward allocates inside a step stays lent from the step's pool until the
/// backward has read it (the outputs a <see cref="NN.Sequential"/> passes between layers) or the step ends (the rest),
/// so the layers' activations add up; the backward gives each gradient back once it is read, so its bytes are a
/// running total, of which <see cref="BackwardBytes"/> is the peak in this layer.
/// </summary>
/// <param name="Name">Dotted module name, as in <see cref="LayerSummary.Name"/>.</param>
/// <param name="Type">PyTorch's class name.</param>
/// <param name="ParametersBytes">The layer's learnable parameters and buffers (running statistics).</param>
/// <param name="GradientsBytes">The parameters' <c>Grad</c> tensors, which outlive the step.</param>
/// <param name="OptimizerBytes">The optimiser's state for the layer's parameters (momentum buffer, Adam's moments).</param>
/// <param name="ActivationsBytes">
/// What the training forward allocates: the output and whatever the op keeps for its backward (dropout's mask, batch
/// norm's statistics, LRN's scale).
/// </param>
/// <param name="BackwardBytes">
/// The most the backward holds from the step's pool at once while this layer's ops run backward, over the forward's
/// buffers: the gradient arriving from the layer after, what the layer's ops make (its input's gradient, batch norm's
/// dγ and dβ before the engine copies them into <c>Grad</c>), and what earlier parts of the backward still hold, less
/// the activations already given back (0 when those outweigh it). The model's <see cref="MemoryFootprint.BackwardBytes"/>
/// is the largest of these, or the loss's.
/// </param>
/// <param name="WorkspaceBytes">The most convolution scratch (im2col columns, Winograd tiles, FFT spectra) one of its training passes holds at once.</param>
/// <param name="InferenceActivationsBytes">What the forward allocates in evaluation mode without gradients.</param>
/// <param name="InferenceWorkspaceBytes">The forward pass's scratch. (A model's total is not the largest layer's: see <see cref="MemoryFootprint.WorkspaceBytes"/>.)</param>
public sealed record LayerMemory(string Name, string Type, long ParametersBytes, long GradientsBytes, long OptimizerBytes,
    long ActivationsBytes, long BackwardBytes, long WorkspaceBytes, long InferenceActivationsBytes, long InferenceWorkspaceBytes);
