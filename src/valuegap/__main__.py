"""`python -m valuegap`: the command line, as the `valuegap` command runs it."""

from valuegap.cli import main

main()
