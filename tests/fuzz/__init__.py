"""Fuzz tests: generated descriptors at deploy and generated Arrow batches at write, with a fixed seed.

Each case runs under a time limit and must end either accepted (and then exact: what is read back is what was
written, in the contract's types) or with a `MeshlakeError` that changed nothing. `MESHLAKE_FUZZ_SEED` replays
another seed; a failure prints the seed and every failing case.
"""
