"""``python -m desurv.cli``: the ``desurv`` command (see :mod:`desurv.cli`)."""

import sys

from desurv.cli import main

if __name__ == "__main__":
    sys.exit(main())
