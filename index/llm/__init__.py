"""The optional LLM: the OpenAI-compatible client, the answerer, and citation verification."""
