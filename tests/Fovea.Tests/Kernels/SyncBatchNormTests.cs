using Fovea.NN;
using Fovea.Tests.Support;

namespace Fovea.Tests.Kernels;

/// <summary>
/// Synchronised batch norm from one member's side. The other member of a two-member group is played by
/// <see cref="FixedPeer"/>, which holds its own fixed batch and answers each collective as a real member would, so
/// the member's output must equal plain batch norm over both batches together (a reference that does not share the
/// code under test), and its gradient is checked by finite differences.
/// </summary>
public class SyncBatchNormTests
{
    private const int C = 3;

    /// <summary>The other member of the group: its batch is fixed and its loss is not differentiated (its dy is 0).</summary>
    private sealed class FixedPeer(Tensor peerBatch) : IAllReduceGroup
    {
        private readonly int _count = peerBatch.NumEl / C;
        private float[] _sums = [];

        public void AllreduceSum(float[] buffer)
        {
            var x = peerBatch.Reshape(peerBatch.Size(0), C, -1).ToArray();
            int s = x.Length / (peerBatch.Size(0) * C);
            if (buffer.Length == C + 1)
            {   // Round 1: per-channel sums and the count.
                for (int i = 0; i < x.Length; i++) buffer[i / s % C] += x[i];
                buffer[C] += _count;
                _sums = (float[])buffer.Clone();
            }
            else if (buffer.Length == C)
            {   // Round 2: squared deviations from the global mean the first round gave.
                for (int i = 0; i < x.Length; i++)
                {
                    int ch = i / s % C;
                    float d = x[i] - _sums[ch] / _sums[C];
                    buffer[ch] += d * d;
                }
            }
            else Assert.Equal(2 * C, buffer.Length); // Backward: this peer's dy is 0, so its sums add nothing.
        }
    }

    private static (Tensor X, Tensor Peer, Tensor Gamma, Tensor Beta) Inputs()
    {
        var g = new Generator(5);
        return (Tensor.Randn([2, C, 3, 2], g) * 2f + 1f, Tensor.Randn([3, C, 3, 2], g) - 0.5f,
            Tensor.Uniform([C], 0.5f, 1.5f, g), Tensor.Randn([C], g));
    }

    [Fact]
    public void Output_and_running_statistics_equal_batch_norm_over_both_members_batches()
    {
        var (x, peer, gamma, beta) = Inputs();
        Tensor runMean = Tensor.Zeros(C), runVar = Tensor.Ones(C), refMean = Tensor.Zeros(C), refVar = Tensor.Ones(C);
        var y = Functional.SyncBatchNorm(x, runMean, runVar, gamma, beta, new FixedPeer(peer));
        var both = Functional.BatchNorm(Tensor.Cat([x, peer], 0), refMean, refVar, gamma, beta, training: true);
        Close.Assert(both.Narrow(0, 0, 2).Contiguous().ToArray(), y.ToArray(), "sync batch norm output");
        Close.Assert(refMean.ToArray(), runMean.ToArray(), "running mean");
        Close.Assert(refVar.ToArray(), runVar.ToArray(), "running var");
    }

    [Fact]
    public void Gradients_match_finite_differences_with_a_peer_in_the_group() =>
        GradCheck.Check(t => Functional.SyncBatchNorm(t[0], null, null, t[1], t[2], new FixedPeer(Inputs().Peer)),
            [Inputs().X, Inputs().Gamma, Inputs().Beta], "sync batch norm");

    private sealed class Unreachable : IAllReduceGroup
    {
        public void AllreduceSum(float[] buffer) => throw new InvalidOperationException("evaluation must not pool statistics");
    }

    [Fact]
    public void Module_pools_statistics_in_training_and_uses_running_statistics_in_evaluation()
    {
        var (x, peer, _, _) = Inputs();
        var alone = new BatchNorm2d(C);
        var synced = new BatchNorm2d(C) { SyncGroup = new FixedPeer(peer) };
        Assert.NotEqual(alone.Forward(x).ToArray(), synced.Forward(x).ToArray());

        var evaluated = new BatchNorm2d(C) { SyncGroup = new Unreachable() };
        evaluated.LoadStateDict(synced.StateDict());
        evaluated.Eval();
        synced.SyncGroup = null;
        synced.Eval();
        Assert.Equal(synced.Forward(x).ToArray(), evaluated.Forward(x).ToArray());
    }
}
