"""`python -m analysis.cli`: the same as `veerkracht`."""

import sys

from analysis.cli import main

sys.exit(main())
