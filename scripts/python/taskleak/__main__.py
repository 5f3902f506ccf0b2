# SPDX-License-Identifier: MIT
"""python -m taskleak"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
