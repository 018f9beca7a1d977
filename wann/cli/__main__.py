"""`python -m wann.cli ...`: the same as the `wann` command."""

import os
import sys

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from wann.cli import main  # noqa: E402

sys.exit(main())
