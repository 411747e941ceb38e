"""Question sets (newsqa JSONL, feedback logs, SQuAD) and their metrics, for `newsqa eval` and benchmarks."""
