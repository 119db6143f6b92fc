"""`autograd.numpy.random`: numpy's generator; its ndarrays are the suite's inputs."""

from numpy.random import *  # noqa: F403
