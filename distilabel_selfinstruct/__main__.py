"""`python -m distilabel_selfinstruct <job>`: the same jobs as `distilabel-selfinstruct`."""

import sys

from distilabel_selfinstruct.cli import main

if __name__ == "__main__":
    sys.exit(main())
