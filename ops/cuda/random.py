"""CUDA kernels of the random sampling ops (ops/random.py)."""

_FOLLOW_UP = "not yet: issue 8 follow-up (runs through the host)"

# op name -> CUDA kernel (attached by ops/cuda/__init__.py::register)
KERNELS = {}

# ops of this family still without a CUDA kernel, and why (they run through the host)
WITHOUT = {
    "_random_uniform": "random sampling: an issue 8 follow-up (runs through the host)",
    "_random_normal": "random sampling: an issue 8 follow-up (runs through the host)",
    "_random_exponential": "random sampling: an issue 8 follow-up (runs through the host)",
    "_random_gamma": "random sampling: an issue 8 follow-up (runs through the host)",
    "_random_poisson": "random sampling: an issue 8 follow-up (runs through the host)",
    "_random_randint": "random sampling: an issue 8 follow-up (runs through the host)",
    "_shuffle": "random sampling: an issue 8 follow-up (runs through the host)",
    "_sample_multinomial": "random sampling: an issue 8 follow-up (runs through the host)",
}

# backward ops without a spec row whose kernels the simulator reaches through a forward op's gradient
TESTED_THROUGH_GRADIENTS = set()
