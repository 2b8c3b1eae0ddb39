using System.Runtime.InteropServices;

namespace Fovea.Distributed.Mpi;

/// <summary>
/// The few Open MPI entry points Fovea uses, bound at run time: <c>libmpi.so.40</c> is loaded with
/// <see cref="NativeLibrary"/> and each function called through a function pointer. Open MPI's handles are
/// pointers, and its predefined ones (MPI_COMM_WORLD, MPI_FLOAT, MPI_BYTE, MPI_SUM) are the addresses of exported globals.
/// MPI.NET is not used: it loads Microsoft MPI's msmpi.dll and crashes against Open MPI.
/// </summary>
internal static unsafe class MpiNative
{
    public const string LibraryName = "libmpi.so.40";
    public const int Success = 0;

    /// <summary>Open MPI's MPI_IN_PLACE is the pointer value 1.</summary>
    public static readonly nint InPlace = 1;

    private static readonly Lazy<Api> Loaded = new(Load);

    public static Api Get() => Loaded.Value;

    public sealed class Api
    {
        public nint CommWorld, Float, Byte, Sum;
        public delegate* unmanaged<int*, nint, int> Init;
        public delegate* unmanaged<int*, int> Initialized;
        public delegate* unmanaged<int*, int> Finalized;
        public delegate* unmanaged<int> Finalize;
        public delegate* unmanaged<nint, int*, int> CommRank;
        public delegate* unmanaged<nint, int*, int> CommSize;
        public delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> Iallreduce;
        public delegate* unmanaged<nint, int, nint, int, nint, nint*, int> Ibcast;
        public delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int> Iallgather;
        public delegate* unmanaged<nint, nint*, int> Ibarrier;
        public delegate* unmanaged<nint*, int*, nint, int> Test;
        public delegate* unmanaged<nint, int, int> Abort;
    }

    private static Api Load()
    {
        nint lib;
        try { lib = NativeLibrary.Load(LibraryName); }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException($"Open MPI is not installed ({LibraryName} not found): install it with `apt-get install -y openmpi-bin libopenmpi-dev`", e);
        }
        nint F(string name) => NativeLibrary.GetExport(lib, name);
        return new Api
        {
            CommWorld = F("ompi_mpi_comm_world"),
            Float = F("ompi_mpi_float"),
            Byte = F("ompi_mpi_byte"),
            Sum = F("ompi_mpi_op_sum"),
            Init = (delegate* unmanaged<int*, nint, int>)F("MPI_Init"),
            Initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized"),
            Finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized"),
            Finalize = (delegate* unmanaged<int>)F("MPI_Finalize"),
            CommRank = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_rank"),
            CommSize = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_size"),
            Iallreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)F("MPI_Iallreduce"),
            Ibcast = (delegate* unmanaged<nint, int, nint, int, nint, nint*, int>)F("MPI_Ibcast"),
            Iallgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int>)F("MPI_Iallgather"),
            Ibarrier = (delegate* unmanaged<nint, nint*, int>)F("MPI_Ibarrier"),
            Test = (delegate* unmanaged<nint*, int*, nint, int>)F("MPI_Test"),
            Abort = (delegate* unmanaged<nint, int, int>)F("MPI_Abort"),
        };
    }

    public static void Check(int rc, string call)
    {
        if (rc != Success) throw new MpiException($"{call} failed with MPI error code {rc}");
    }
}

/// <summary>An MPI call failed or a collective timed out.</summary>
public sealed class MpiException(string message) : Exception(message);
