#!/usr/bin/python3
"""Plot `Run mode = paper` runs in the style of Chizat & Bach (2018), Fig. 3: the excess loss
F - F* at convergence against the number m of particles (log-log), the non-convex particle
gradient flow in blue (and, with Paper/Particle dynamics, the Wasserstein-Fisher-Rao flow of
weighted particles in green) against convex minimization over the weights with positions fixed
at random features in orange; every instance (seed) as a dot, the median over instances as a
line.
Excesses at or below the stopping floor (the optimum reached to round-off) are drawn on the
floor line, as open markers.

Usage: /usr/bin/python3 postprocess/plot_paper.py <paper output directory> [more ...]
           [--output file.png]
One panel per directory (say, sparse deconvolution and the ReLU network). Without --output the
figure is <first directory>/paper.png.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from meanfield_table import read_table, split_output_option

COLORS = {"particles": "tab:blue", "particles_wfr": "tab:green", "random_features": "tab:orange"}
LABELS = {
    "particles": "particle gradient flow (non-convex)",
    "particles_wfr": "Wasserstein-Fisher-Rao particles (weights move too)",
    "random_features": "random features (convex, weights only)",
}


def read_parameter(directory, name, default):
    """An entry of the run's parameters.prm (the last `set name = value`), or the default."""
    value = default
    path = os.path.join(directory, "parameters.prm")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                words = line.split("#")[0].strip()
                if words.startswith("set " + name) and "=" in words:
                    value = words.split("=", 1)[1].strip()
    return value


def title_of(directory):
    """The problem type and its size, from parameters.prm."""
    kind = read_parameter(directory, "Type", "")
    if kind == "sparse deconvolution":
        return "sparse deconvolution (d = 2), m0 = %s spikes" % read_parameter(
            directory, "Number of spikes", "?")
    if kind == "two-layer network":
        return "ReLU network (d_in = %s), m0 = %s neurons" % (
            read_parameter(directory, "Input dimension", "?"),
            read_parameter(directory, "Number of teacher neurons", "?"))
    return os.path.basename(os.path.normpath(directory))


def panel(ax, directory):
    names, rows = read_table(os.path.join(directory, "paper"))
    col = {n: i for i, n in enumerate(names)}
    f_star = np.array([float(r[col["F*"]]) for r in rows])
    floor_parameter = float(read_parameter(directory, "Excess floor", "1e-10"))
    # the excess a run that "reached the optimum" has at most; for F* = 0 use the smallest seen
    positive = [float(r[col["F - F*"]]) for r in rows if float(r[col["F - F*"]]) > 0]
    floor = floor_parameter * f_star.max() if f_star.max() > 0 else min(positive or [1e-16])
    for method in ("particles", "particles_wfr", "random_features"):
        mine = [r for r in rows if r[col["method"]] == method]
        if not mine:
            continue
        m = np.array([float(r[col["m"]]) for r in mine])
        excess = np.array([float(r[col["F - F*"]]) for r in mine])
        at_floor = excess <= floor
        shown = np.where(at_floor, floor, excess)
        ax.scatter(m[~at_floor], shown[~at_floor], s=18, color=COLORS[method], alpha=0.6)
        ax.scatter(m[at_floor], shown[at_floor], s=30, facecolors="none",
                   edgecolors=COLORS[method])
        ms = np.unique(m)
        medians = [np.median(shown[m == v]) for v in ms]
        ax.plot(ms, medians, "-o", color=COLORS[method], label=LABELS[method], markersize=4)
    ax.axhline(floor, color="0.5", lw=0.8, ls=":")
    ax.text(min(float(r[col["m"]]) for r in rows), floor * 1.6, "optimum reached (floor)",
            fontsize=7, color="0.4")
    m0 = read_parameter(directory, "Number of spikes" if "deconvolution" in title_of(directory)
                        else "Number of teacher neurons", "")
    if m0:
        ax.axvline(float(m0), color="0.3", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of particles m")
    ax.set_ylabel("excess loss F - F* at convergence")
    ax.set_title(title_of(directory), fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="best")


def main(arguments):
    arguments, output = split_output_option(arguments)
    if not arguments:
        sys.exit(__doc__)
    for directory in arguments:
        if not os.path.exists(os.path.join(directory, "paper")):
            sys.exit("plot_paper.py: %s has no `paper` table (run a .prm with Run mode = paper)"
                     % directory)
    fig, axes = plt.subplots(1, len(arguments), figsize=(5.2 * len(arguments), 4.2),
                             squeeze=False)
    for ax, directory in zip(axes[0], arguments):
        panel(ax, directory)
    fig.tight_layout()
    output = output or os.path.join(arguments[0], "paper.png")
    fig.savefig(output, dpi=130)
    print(output)


if __name__ == "__main__":
    main(sys.argv[1:])
