"""Extractive answering, no LLM: what a question asks, what a sentence holds, the answer, follow-ups."""
