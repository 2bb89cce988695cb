"""Side-by-side benchmarks: meshlake, its peers and the physical limit, in one run each."""
