"""Use the tapegrad of this checkout (../python) when its extension is built there; otherwise
the installed one."""

import glob
import os
import sys

_src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
if glob.glob(os.path.join(_src, "tapegrad", "_core*")):
    sys.path.insert(0, os.path.abspath(_src))
