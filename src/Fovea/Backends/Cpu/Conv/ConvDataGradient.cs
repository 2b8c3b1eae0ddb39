namespace Fovea.Backends.Cpu;

/// <summary>
/// At unit stride the data gradient is itself a forward convolution: dx = dy correlated with each filter turned by
/// 180°, in and out channels swapped, dy padded by the dilated kernel less the forward padding on each side (the output
/// then has the input's size). The tiled direct kernels and Winograd run it so, with their forward code.
/// </summary>
internal static class ConvDataGradient
{
    /// <summary>
    /// The forward geometry the data gradient amounts to; false at other strides, or where the forward padding is the
    /// whole kernel or more (the transposed pass would need negative padding).
    /// </summary>
    public static bool TryAsForward(in ConvGeometry g, out ConvGeometry asForward)
    {
        int eh = g.EffectiveKernelH - 1, ew = g.EffectiveKernelW - 1;
        asForward = g with
        {
            InChannels = g.OutChannels,
            InHeight = g.OutHeight,
            InWidth = g.OutWidth,
            OutChannels = g.InChannels,
            PadTop = eh - g.PadTop,
            PadBottom = eh - g.PadBottom,
            PadLeft = ew - g.PadLeft,
            PadRight = ew - g.PadRight,
        };
        return g.StrideH == 1 && g.StrideW == 1 && asForward.PadTop >= 0 && asForward.PadBottom >= 0
            && asForward.PadLeft >= 0 && asForward.PadRight >= 0;
    }

    /// <summary>
    /// The turned filters in a <see cref="ScratchPool"/> buffer of the weights' size, for the forward pass to read; the
    /// caller returns it. (A callback taking them would allocate its captures and a delegate on every call.)
    /// </summary>
    public static float[] RentTurned(in ConvGeometry g, float[] w)
    {
        float[] turned = ScratchPool.Rent((int)g.WeightCount);
        TurnFilters(g, w, turned);
        return turned;
    }

    /// <summary>w [O, Cg, KH, KW] → per group [Cg, Og, KH, KW], each filter turned by 180°.</summary>
    private static void TurnFilters(in ConvGeometry g, float[] w, float[] turned)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        for (int gi = 0; gi < g.Groups; gi++)
            for (int ol = 0; ol < og; ol++)
                for (int c = 0; c < cg; c++)
                {
                    int from = ((gi * og + ol) * cg + c) * taps, to = ((gi * cg + c) * og + ol) * taps;
                    for (int t = 0; t < taps; t++) turned[to + taps - 1 - t] = w[from + t];
                }
    }
}
