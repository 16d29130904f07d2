"""Background loops of the server: crash detection now; the scheduler, late runs, trigger evaluation
and retention later. Each loop is a small class with one `run_once`; `LoopRunner` runs them."""
