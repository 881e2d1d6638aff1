import os

# Tests run on the CPU with a bounded thread pool; no test touches the network.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests compile afresh: no persistent compile cache unless a test turns it on for itself.
os.environ["NTKBENCH_COMPILE_CACHE"] = "0"
