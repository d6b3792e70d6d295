"""``python -m pipelines.verify --env dev``: see :mod:`pipelines.verify.cli`."""

import sys

from pipelines.verify.cli import main

sys.exit(main())
