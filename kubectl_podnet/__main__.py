"""`python -m kubectl_podnet` is the `kubectl-podnet` executable."""

import sys

from kubectl_podnet.cli.app import main

sys.exit(main())
