using System.Diagnostics;

namespace Fovea.Cli.Tests;

/// <summary>Runs the built fovea tool as a user would: a separate process, output captured, CI-style (no terminal).</summary>
internal static class FoveaProcess
{
    public static (int Exit, string Out, string Err) Run(string workDir, params string[] args) => RunWith(NoEnvironment, workDir, args);

    private static readonly Dictionary<string, string> NoEnvironment = [];

    /// <summary>The tool run with extra environment variables (the runtime's settings, say).</summary>
    public static (int Exit, string Out, string Err) RunWith(IReadOnlyDictionary<string, string> environment, string workDir, params string[] args) =>
        RunProgram("dotnet", workDir, ["exec", Path.Combine(AppContext.BaseDirectory, "fovea.dll"), .. args], environment);

    /// <summary>Another build of the tool (a published executable), run the same way.</summary>
    public static (int Exit, string Out, string Err) RunProgram(string program, string workDir, params string[] args) =>
        RunProgram(program, workDir, args, NoEnvironment);

    private static (int Exit, string Out, string Err) RunProgram(string program, string workDir, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        psi.Environment["FOVEA_DATA"] = SharedData;
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 10 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>One data folder for every test in the run, so MNIST is converted once.</summary>
    public static string SharedData { get; } = Directory.CreateTempSubdirectory("fovea-cli-data").FullName;

    public static string TempDir() => Directory.CreateTempSubdirectory("fovea-cli").FullName;
}
