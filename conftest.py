"""pytest configuration for the whole repository (nbval runs the notebooks in chapters/).

Two changes make nbval's kernels behave as Jupyter's do.

While pytest runs a test it sets PYTEST_CURRENT_TEST, and ipykernel then turns off
its capture of file-descriptor output: text printed by a child process would reach
Jupyter but not nbval. The kernels nbval starts are given the environment without
that variable, so nbval sees what a learner sees.

nbval stops a kernel by killing its process group, which kills multiprocessing's
resource tracker with it, so semaphores a notebook still held stay in /dev/shm.
The kernels are asked to shut down instead, as Jupyter does (and killed only if
they do not), so the resource tracker cleans up.
"""

import os

import nbval.kernel

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_kernel_as_jupyter_would(*args, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    kwargs.setdefault("env", env)
    return _start_new_kernel(*args, **kwargs)


nbval.kernel.start_new_kernel = _start_kernel_as_jupyter_would


def _stop_kernel_as_jupyter_would(self):
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)
    del self.km


nbval.kernel.RunningKernel.stop = _stop_kernel_as_jupyter_would
