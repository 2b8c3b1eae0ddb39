// DataParallel lowers the process-wide CpuParallel.Threads while its replicas run, and one test checks that it
// restores it: test classes running replicas side by side would read each other's setting (seen in CI once
// sync-batch-norm and compression tests joined the data-parallel ones), so this assembly's tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
