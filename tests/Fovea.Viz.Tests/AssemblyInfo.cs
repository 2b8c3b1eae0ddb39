// SkiaSharp and ScottPlot draw through native code with process-wide font caches; once in four CI runs the test
// host crashed while two classes rendered at the same time, never when run alone. Pictures are drawn one test at a
// time (12 tests, a few seconds).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
