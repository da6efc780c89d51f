"""Human review in Argilla (see `distilabel_selfinstruct.cli.review`).

python pipelines/review.py --help
"""

import sys

from distilabel_selfinstruct.cli.review import main

if __name__ == "__main__":
    sys.exit(main())
