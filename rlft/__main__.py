"""``python -m rlft <command> ...`` = the ``rlft`` console script."""

from rlft.console import main

main()
