namespace Fovea;

/// <summary>
/// The ops' names for the tape and for errors, made once: an enum's ToString boxes it and builds a new string on
/// every call, which every element-wise op and reduction of a training step paid.
/// </summary>
internal static class OpNames
{
    private static readonly string[] Unary = Enum.GetNames<UnaryOp>();
    private static readonly string[] Binary = Enum.GetNames<BinaryOp>();
    private static readonly string[] Reduce = Enum.GetNames<ReduceOp>();

    public static string Of(UnaryOp op) => Unary[(int)op];
    public static string Of(BinaryOp op) => Binary[(int)op];
    public static string Of(ReduceOp op) => Reduce[(int)op];
}
