using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
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
            Console.Error.WriteLine($"fovea: error: {MessageOf(e)}");
            return UserError;
        }
    }

    // ArgumentException ends its message with " (Parameter 'name')", the name of a C# parameter the user never saw.
    private static string MessageOf(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;

    /// <summary>
    /// Writes the command line's parse errors (an unknown option, a value of the wrong type, a missing command) as one
    /// line each and returns <see cref="UserError"/>; a value of the wrong type is described by what the option takes
    /// rather than by its .NET type, one outside an option's choices by the choices on one line, a missing command by the
    /// commands there are.
    /// </summary>
    public static int Report(ParseResult result)
    {
        // The whole path of a sub-command's sub-command ("fovea viz filters"), which is what its help is under.
        var path = new List<string>();
        for (SymbolResult? r = result.CommandResult; r is CommandResult { Command: not RootCommand } c; r = c.Parent) path.Insert(0, c.Command.Name);
        string name = string.Join(' ', path.Prepend("fovea"));
        var command = result.CommandResult.Command;
        foreach (var error in result.Errors)
        {
            // A group of commands given none ('fovea viz'): name the ones it has, not "Required command was not provided".
            string message = error.Message.StartsWith("Required command was not provided", StringComparison.Ordinal) && command.Subcommands.Count > 0
                ? $"'{name}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}"
                : Describe(error);
            Console.Error.WriteLine($"fovea: error: {message} (see '{name} --help')");
        }
        return UserError;
    }

    private static readonly Regex WrongType = new(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>.*)' as expected type '(?<type>.*)'\.$");

    // A value outside an option's choices: System.CommandLine lists them one a line, tab-indented.
    private static readonly Regex NotAmong = new(@"^Argument '(?<value>.*)' not recognized\. Must be one of:(?<choices>(?:\s*'[^']*')+)\s*$", RegexOptions.Singleline);

    private static string Describe(ParseError error)
    {
        string message = error.Message;
        var among = NotAmong.Match(message);
        if (among.Success)
        {
            var choices = Regex.Matches(among.Groups["choices"].Value, "'([^']*)'").Select(c => c.Groups[1].Value);
            string option = "the value";
            for (var r = error.SymbolResult; r is not null; r = r.Parent)
                if (r is OptionResult o)
                {
                    option = o.Option.Name;
                    break;
                }
            return $"{option} expects one of {string.Join(", ", choices)}, got '{among.Groups["value"].Value}'";
        }
        var m = WrongType.Match(message);
        if (!m.Success) return message;
        // The options' value types: ints and floats (strings take anything, flags take no value).
        string type = m.Groups["type"].Value;
        string? expected = type.Contains("System.Int") ? "a whole number" : type.Contains("System.Single") ? "a number" : null;
        return expected is null ? message : $"{m.Groups["option"].Value} expects {expected}, got '{m.Groups["value"].Value}'";
    }

    /// <summary>Writes a line to stdout without Spectre markup parsing.</summary>
    public static void Line(string text) => AnsiConsole.Profile.Out.Writer.WriteLine(text);
}
