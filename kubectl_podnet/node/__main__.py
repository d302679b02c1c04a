"""`python -m kubectl_podnet.node --request JSON`: the node engine (engine.py), run once."""

import sys

from kubectl_podnet.node.engine import main

if __name__ == "__main__":
    sys.exit(main())
