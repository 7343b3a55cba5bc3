"""``python -m emorec.cli``: the ``emorec`` command."""

import sys

from . import main

sys.exit(main())
