"""`python -m comfyhangar.agent ...`: see `comfyhangar.agent.cli`."""

import sys

from comfyhangar.agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
