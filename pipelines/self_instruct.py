"""Bootstraps a Self-Instruct dataset (see `distilabel_selfinstruct.cli.run`).

python pipelines/self_instruct.py --help
"""

import sys

from distilabel_selfinstruct.cli.run import main

if __name__ == "__main__":
    sys.exit(main())
