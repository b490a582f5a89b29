"""pytest configuration for the whole repository (nbval runs the notebooks in chapters/).

While pytest runs a test it sets PYTEST_CURRENT_TEST, and ipykernel then turns off
its capture of file-descriptor output: text printed by a child process would reach
Jupyter but not nbval. The kernels nbval starts are given the environment without
that variable, so nbval sees what a learner sees.
"""

import os

import nbval.kernel

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_kernel_as_jupyter_would(*args, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    kwargs.setdefault("env", env)
    return _start_new_kernel(*args, **kwargs)


nbval.kernel.start_new_kernel = _start_kernel_as_jupyter_would
