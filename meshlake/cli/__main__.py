"""`python -m meshlake.cli`: the `meshlake` command, where its script is not on the path."""

from meshlake.cli.main import main

main()
