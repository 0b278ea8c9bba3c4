#!/usr/bin/python3
"""Plot a `Run mode = study`: each distance between the particle measure and the PDE against m
(mean over seeds, the seeds as dots), one line per initialization and recorded time, an m^(-1/2)
guide, and the PDE's own error (against a finer mesh) as the floor. Writes
<directory>/convergence.png.

Usage: /usr/bin/python3 postprocess/plot_convergence.py <output directory of the study>
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from meanfield_table import read_table


def main(directory):
    names, rows = read_table(os.path.join(directory, "study"))
    # the metrics that do not vanish identically (no data: no prediction distance)
    metrics = [n for n in names[4:] if any(float(r[names.index(n)]) > 0 for r in rows)]
    floor = {}
    error_file = os.path.join(directory, "study_pde_error")
    if os.path.exists(error_file):
        error_names, error_rows = read_table(error_file)
        for row in error_rows:
            floor[float(row[0])] = {n: float(v) for n, v in zip(error_names[2:], row[2:])}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 4), squeeze=False)
    groups = sorted({(r[0], float(r[3])) for r in rows})
    for ax, metric in zip(axes[0], metrics):
        column = names.index(metric)
        all_m = []
        for initialization, time in groups:
            runs = [r for r in rows if r[0] == initialization and float(r[3]) == time]
            ms = sorted({int(r[1]) for r in runs})
            values = {m: [float(r[column]) for r in runs if int(r[1]) == m] for m in ms}
            means = [np.mean(values[m]) for m in ms]
            line, = ax.loglog(ms, means, "o-", label=f"{initialization}, t = {time:g}")
            for m in ms:
                ax.loglog([m] * len(values[m]), values[m], ".", color=line.get_color(), alpha=0.4)
            if time in floor and metric in floor[time] and floor[time][metric] > 0:
                ax.axhline(floor[time][metric], color="gray", ls=":", lw=1.5)
            all_m += ms
        if all_m:
            m = np.array(sorted(set(all_m)), dtype=float)
            ax.loglog(m, ax.get_ylim()[1] * 0.5 * (m / m[0]) ** -0.5, "k--", lw=1,
                      label=r"$m^{-1/2}$")
        ax.set_xlabel("m")
        ax.set_title(metric)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("particles against the PDE (dotted: the PDE's own error)")
    fig.tight_layout()
    out = os.path.join(directory, "convergence.png")
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
