using System.Globalization;
using Fovea;
using Fovea.Distributed;
using Fovea.Distributed.Compression;
using Fovea.Distributed.Mpi;
using Fovea.Distributed.Tests;
using Fovea.IO;
using Fovea.NN;

// Launched by the MPI tests as `mpirun -np N dotnet Fovea.Distributed.MpiDriver.dll MODE ...`:
//   train OUT.npy STEPS BATCH [COMPRESSION]
//                              every rank trains SmallCnn on its shard of the fixed global batch, exchanging gradients
//                              dense or as COMPRESSION (e.g. topk:0.01); rank 0 writes the final weights (flat, in
//                              Parameters() order) to OUT.npy
//   die RANK                   rank RANK exits at once without MPI_Finalize; the others enter an all-reduce and
//                              must stop with an error (mpirun ends the job and names the rank)
//   hang RANK                  rank RANK stops calling collectives (sleeps); the others' all-reduce times out after
//                              $FOVEA_MPI_TIMEOUT seconds and they abort the job
// Exit codes: 0 done, 2 bad arguments, 3 a collective failed or timed out, 4 ranks diverged.
if (args.Length < 2) { Console.Error.WriteLine("usage: train OUT.npy STEPS BATCH [COMPRESSION] | die RANK | hang RANK"); return 2; }
// $FOVEA_MPI_TIMEOUT: seconds a collective may take; $FOVEA_MPI_BUCKET: floats per all-reduce call (small values
// exercise the bucketing on the small CNN's 235 parameters).
using var comm = new MpiCommunicator
{
    Timeout = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("FOVEA_MPI_TIMEOUT") ?? "30", CultureInfo.InvariantCulture)),
    BucketFloats = int.Parse(Environment.GetEnvironmentVariable("FOVEA_MPI_BUCKET") ?? "1048576", CultureInfo.InvariantCulture),
};
try
{
    switch (args[0])
    {
        case "train":
            {
                int steps = int.Parse(args[2], CultureInfo.InvariantCulture), batch = int.Parse(args[3], CultureInfo.InvariantCulture);
                var (x, y) = SmallCnn.Data(batch);
                // Ranks other than 0 start from different weights: the initial broadcast must fix that.
                var model = SmallCnn.Create(seed: comm.Rank == 0 ? 7 : 1000 + comm.Rank);
                var compression = args.Length > 4 ? GradientCompression.Parse(args[4]) : GradientCompression.None;
                var ddp = new DistributedDataParallel(model, comm, compression: compression);
                var opt = SmallCnn.Optimizer(model);
                var loss = new CrossEntropyLoss();
                for (int s = 0; s < steps; s++)
                {
                    var (lv, _) = ddp.TrainStep(x, y, loss, opt);
                    if (ddp.IsMain) Console.WriteLine($"step {s + 1}: loss {lv.ToString("F6", CultureInfo.InvariantCulture)} on {comm.Size} ranks, {ddp.BytesSentPerStep} bytes sent");
                }
                float divergence = ddp.MaxDivergenceFromMain();
                if (divergence != 0f) { Console.Error.WriteLine($"rank {comm.Rank}: weights diverged by {divergence}"); return 4; }
                if (ddp.IsMain) Npy.Save(args[1], Tensor.FromArray(SmallCnn.Flat(model), [SmallCnn.Flat(model).Length]));
                comm.Barrier();
                return 0;
            }
        case "hang":
        case "die":
            {
                int victim = int.Parse(args[1], CultureInfo.InvariantCulture);
                if (comm.Rank == victim)
                {
                    Console.Error.WriteLine($"rank {comm.Rank}: {(args[0] == "die" ? "exiting" : "hanging")} on purpose");
                    if (args[0] == "die") Environment.Exit(7);
                    Thread.Sleep(Timeout.Infinite);
                }
                comm.AllreduceSum(new float[16]);
                Console.Error.WriteLine($"rank {comm.Rank}: the all-reduce completed although rank {victim} died");
                return 0;
            }
        default:
            Console.Error.WriteLine($"unknown mode '{args[0]}'");
            return 2;
    }
}
catch (MpiException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    comm.Abort(3);
    return 3;
}
