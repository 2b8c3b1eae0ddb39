namespace Fovea.Backends.Cpu;

/// <summary>
/// The numbers <c>new Random(seed)</c> draws (Knuth's subtractive generator, which .NET keeps for seeded instances so
/// that a seed gives the same sequence in every version), with its state in memory the caller lends: a seeded Random
/// puts about 300 bytes on the heap, once for every dropout mask of every step.
/// </summary>
internal ref struct SeededRandom
{
    /// <summary>The ints of state to lend (index 0 is unused, as in Knuth's ran3).</summary>
    public const int StateLength = 56;

    private const int Modulus = int.MaxValue;
    private readonly Span<int> _state;
    private int _next, _nextLagged;

    public SeededRandom(int seed, Span<int> state)
    {
        _state = state[..StateLength];
        // Fill positions 21·i mod 55 (every one of 1..54, in that order) with a Fibonacci-like sequence from the seed.
        int current = 161803398 - (seed == int.MinValue ? int.MaxValue : Math.Abs(seed)), previous = 1;
        _state[55] = current;
        for (int i = 1, at = 0; i < 55; i++)
        {
            at = (at + 21) % 55;
            _state[at] = previous;
            previous = current - previous;
            if (previous < 0) previous += Modulus;
            current = _state[at];
        }
        // Four rounds of mixing each word with the one 31 places on (cyclically over 1..55).
        for (int round = 0; round < 4; round++)
            for (int i = 1; i < 56; i++)
            {
                _state[i] -= _state[1 + (i + 30) % 55];
                if (_state[i] < 0) _state[i] += Modulus;
            }
        _next = 0;
        _nextLagged = 21;
    }

    /// <summary>As Random.NextSingle draws it from a seeded instance: the double sample in [0, 1), rounded to float.</summary>
    public float NextSingle() => (float)(Next() * (1.0 / Modulus));

    // The next value in [0, Modulus): the difference of two words 21 apart, stored over the first.
    private int Next()
    {
        if (++_next >= 56) _next = 1;
        if (++_nextLagged >= 56) _nextLagged = 1;
        int value = _state[_next] - _state[_nextLagged];
        if (value == Modulus) value--;
        if (value < 0) value += Modulus;
        _state[_next] = value;
        return value;
    }
}
