"""``python -m siamtrack.cli``: the ``siamtrack`` command."""

import sys

from siamtrack.cli import main

sys.exit(main())
