"""``python -m autotune``: the command line (see :mod:`autotune.cli`)."""

from autotune.cli import main

main()
