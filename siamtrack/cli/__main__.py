"""``python -m siamtrack.cli``: the ``siamtrack`` command."""

import sys

from . import main

sys.exit(main())
