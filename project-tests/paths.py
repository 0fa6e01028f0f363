"""Where the checkout and the project tests' data are (conftest.py re-exports them; modules that
e2e/conftest.py imports take them from here, since two conftest modules cannot import each other)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "project-tests" / "data"

# The harnesses' shared helpers, the `loopback` package, sit at the checkout's root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
