"""`python -m analysis`: the same as the `veerkracht` command."""

import sys

from analysis.cli import main

sys.exit(main())
