"""newsqa: answers questions about news articles, quoting and citing them.

The installed package maps two top-level folders of the repository: `index/` is `newsqa.index` (the
library) and `bot/` is `newsqa.bot` (the CLI and the Telegram bot); see `[tool.setuptools]` in
pyproject.toml.
"""
