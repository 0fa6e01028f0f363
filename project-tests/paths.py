"""Where the checkout and the project tests' data are (conftest.py re-exports them; modules that
e2e/conftest.py imports take them from here, since two conftest modules cannot import each other)."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "project-tests" / "data"
