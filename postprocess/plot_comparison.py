#!/usr/bin/python3
"""Plot the `comparison` table of a `Run mode = compare` run: F of the PDE and of the particles,
and the distances between the two measures, against time, to <directory>/comparison.png.

Usage: /usr/bin/python3 postprocess/plot_comparison.py <output directory>
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from meanfield_table import read_columns


def main(directory):
    table = read_columns(f"{directory}/comparison")
    t = table["time"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(t, table["F pde"], "o-", label="PDE")
    left.plot(t, table["F particles"], "s--", label="particles")
    left.set_xlabel("t")
    left.set_ylabel("F")
    left.set_title("F along both flows")
    left.legend()
    wasserstein = "W1" if "W1" in table else "sliced W2"
    for name in ["energy gap", "prediction distance", "MMD", wasserstein]:
        right.semilogy(t, np.maximum(table[name], 1e-16), "o-", label=name)
    right.set_xlabel("t")
    right.set_title("distance particles - PDE")
    right.legend()
    fig.tight_layout()
    fig.savefig(f"{directory}/comparison.png", dpi=120)
    print(f"wrote {directory}/comparison.png")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
