# numpy.zeros then numpy.ones of 512 MiB each, a sum over both: the real
# program of the zero-page story. Prints "elapsed_ns N".
import sys
import time

import numpy as np

start = time.perf_counter()
a = np.zeros(1 << 26)
b = np.ones(1 << 26)
total = float((a + b).sum())
print("elapsed_ns", int((time.perf_counter() - start) * 1e9))
sys.exit(0 if total == float(1 << 26) else 1)
