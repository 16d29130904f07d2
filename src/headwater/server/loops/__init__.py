"""Background loops of the server: crash detection, the scheduler and late runs now; trigger evaluation
and retention later. Each loop is a small class with one `run_once`; `LoopRunner` runs them."""
