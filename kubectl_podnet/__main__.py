"""`python -m kubectl_podnet` is the `kubectl-podnet` executable."""

import sys

from kubectl_podnet.cli.front import main

sys.exit(main())
