"""The pure domain: states and their transition table, run names. No I/O, and nothing else of ours."""
