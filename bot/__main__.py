"""`python -m bot` is the `newsqa` command."""

from bot.cli import main

main()
