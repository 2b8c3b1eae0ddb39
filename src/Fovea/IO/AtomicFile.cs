namespace Fovea.IO;

/// <summary>Writes a file so that readers see either the old file or the whole new one, never a half-written one.</summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/> to a temporary file beside <paramref name="path"/>, flushes it, then renames it over.</summary>
    /// <exception cref="IOException">The file cannot be written there; the message names the path and why.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        if (Directory.Exists(path)) throw new IOException($"cannot write '{path}': it is a folder");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        CreateFolder(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The system's message may name only the temporary file: say which file was being written.
            throw new IOException($"cannot write '{path}': {e.Message}", e);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Creates a folder (and its parents) for output, or says which folder could not be made and why.</summary>
    /// <exception cref="IOException">A file stands in the way, or the folder may not be created there.</exception>
    public static void CreateFolder(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the folder '{dir}': {e.Message}", e);
        }
    }
}
