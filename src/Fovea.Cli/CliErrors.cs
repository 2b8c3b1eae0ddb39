using Fovea.Data;
using Spectre.Console;

namespace Fovea.Cli;

/// <summary>Turns the errors a user can cause into one line on stderr and a non-zero exit, never a stack trace.</summary>
internal static class CliErrors
{
    public const int UserError = 1;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
            or IOException or DatasetUnavailableException or InvalidOperationException or UnauthorizedAccessException or NotSupportedException)
        {
            Console.Error.WriteLine($"fovea: error: {e.Message}");
            return UserError;
        }
    }

    /// <summary>Writes a line to stdout without Spectre markup parsing.</summary>
    public static void Line(string text) => AnsiConsole.Profile.Out.Writer.WriteLine(text);
}
