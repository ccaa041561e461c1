"""Compiled hot loops (Cython and Numba). No validation happens here: callers check inputs."""
