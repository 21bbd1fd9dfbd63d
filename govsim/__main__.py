"""``python -m govsim`` runs the command line."""

import sys

from govsim.cli import main

sys.exit(main())
