"""`python -m strata.bench ...`: the same as `strata bench ...`."""

import sys

from strata.bench.command import run

raise SystemExit(run(sys.argv[1:]))
