"""Publishes a saved dataset: its card, the Hub (see `distilabel_selfinstruct.cli.publish`).

python pipelines/publish.py --help
"""

import sys

from distilabel_selfinstruct.cli.publish import main

if __name__ == "__main__":
    sys.exit(main())
