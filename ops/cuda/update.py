"""CUDA kernels of ops/update.py.

None yet: the update ops run on the GPU through `host_fallback` (the CPU kernel on host copies; the states, as
mutated inputs, are copied back), as dataflow's optimizers did before the ops existed. Each is one elementwise
pass, so a CUDA kernel is a direct port of its loop in ops/cpu/update.py.
"""
KERNELS = {}

_REASON = "elementwise optimizer update: runs through the host (CPU loop on copies); a CUDA port is a follow-up"
WITHOUT = {name: _REASON for name in (
    "sgd_update", "sgd_mom_update", "mp_sgd_update", "mp_sgd_mom_update", "nag_mom_update", "mp_nag_mom_update",
    "multi_sgd_update", "signsgd_update", "signum_update", "adam_update", "rmsprop_update", "rmspropalex_update",
    "ftml_update", "ftrl_update", "_sparse_adagrad_update", "lamb_update_phase1", "mp_lamb_update_phase1",
    "lamb_update_phase2", "mp_lamb_update_phase2", "_adamw_update", "_mp_adamw_update",
    "_multi_adamw_update", "_multi_mp_adamw_update")}
