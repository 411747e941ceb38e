"""`python -m newsqa` is the `newsqa` command."""

from newsqa.bot.cli import main

main()
