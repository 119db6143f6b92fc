"""autograd's differentiable containers are plain Python containers for tapegrad (pytrees)."""

import builtins as _b

tuple = _b.tuple
list = _b.list
dict = _b.dict
isinstance = _b.isinstance
