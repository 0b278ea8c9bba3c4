#!/usr/bin/python3
"""Draw the particle paths of a `Run mode = particles` run with `Particles/Trajectory interval`
set, in the style of Chizat & Bach (2018), Fig. 2:

* sparse deconvolution (theta = (x, r)): the position x on the torus against the signed mass
  r_i / m each particle carries, every path from its start (small dot) to its end (large dot),
  with the ground-truth spikes (x*_j, r*_j) as black crosses;
* two-layer network with d_in = 2 (theta = (a, w1, w2)): |a_i| w_i in the plane (2-homogeneous:
  the quantity whose directions and sizes the teacher fixes), red for a > 0 and blue for a < 0,
  the teacher neurons |a*_j| w*_j as crosses on dashed rays. (Without a bias the minimizer is
  not unique: max(z, 0) - max(-z, 0) = z, so the particles may fit the teacher by another
  measure; F tells whether they did.)

Usage: /usr/bin/python3 postprocess/plot_trajectories.py <output directory> [--output file.png]
Writes <output directory>/trajectories.png unless --output is given.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from meanfield_table import read_numeric_table, split_output_option


def paths(names, data):
    """Per particle id: the times and the coordinates (one row per record), time-ordered."""
    col = {n: i for i, n in enumerate(names)}
    ids = data[:, col["id"]].astype(int)
    order = np.lexsort((data[:, col["t"]], ids))
    data, ids = data[order], ids[order]
    m = ids.max() + 1
    return m, {i: data[ids == i] for i in range(m)}, col


def deconvolution(ax, directory, names, data):
    m, tracks, col = paths(names, data)
    colors = plt.cm.viridis(np.linspace(0, 0.9, m))
    for i, track in tracks.items():
        x, mass = track[:, col["x"]], track[:, col["r"]] / m
        # break the line where the path wraps around the torus
        breaks = np.where(np.abs(np.diff(x)) > 0.5)[0] + 1
        for xs, ys in zip(np.split(x, breaks), np.split(mass, breaks)):
            ax.plot(xs, ys, "-", color=colors[i], lw=1.2)
        ax.plot(x[0], mass[0], "o", color=colors[i], markersize=3)
        ax.plot(x[-1], mass[-1], "o", color=colors[i], markersize=7)
    truth = os.path.join(directory, "ground_truth")
    if os.path.exists(truth):
        tn, td = read_numeric_table(truth)
        tc = {n: i for i, n in enumerate(tn)}
        ax.plot(td[:, tc["x"]], td[:, tc["r"]] * td[:, tc["weight"]], "kx", markersize=10,
                mew=2, label="ground truth (x*_j, r*_j)")
        ax.legend(fontsize=8, loc="best")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position x on the torus")
    ax.set_ylabel("signed mass r_i / m")
    t_end = data[:, col["t"]].max()
    ax.set_title("sparse deconvolution: %d particles, paths to t = %g" % (m, t_end), fontsize=10)


def network(ax, directory, names, data):
    m, tracks, col = paths(names, data)
    for i, track in tracks.items():
        a = track[:, col["a"]]
        u = np.abs(a) * track[:, col["w1"]]
        v = np.abs(a) * track[:, col["w2"]]
        color = "tab:red" if a[-1] > 0 else "tab:blue"
        ax.plot(u, v, "-", color=color, lw=0.8, alpha=0.7)
        ax.plot(u[-1], v[-1], "o", color=color, markersize=3)
    truth = os.path.join(directory, "ground_truth")
    if os.path.exists(truth):
        tn, td = read_numeric_table(truth)
        tc = {n: i for i, n in enumerate(tn)}
        a = np.abs(td[:, tc["a"]])
        u, v = a * td[:, tc["w1"]], a * td[:, tc["w2"]]
        reach = 1.3 * max(np.abs(u).max(), np.abs(v).max())
        for uj, vj in zip(u, v):
            n = np.hypot(uj, vj)
            ax.plot([0, reach * uj / n], [0, reach * vj / n], "k--", lw=0.6)
        positive = td[:, tc["a"]] > 0
        ax.plot(u[positive], v[positive], "x", color="darkred", markersize=10, mew=2,
                label="teacher |a*_j| w*_j, a* > 0")
        ax.plot(u[~positive], v[~positive], "x", color="navy", markersize=10, mew=2,
                label="teacher |a*_j| w*_j, a* < 0")
        ax.legend(fontsize=8, loc="best")
    ax.set_aspect("equal")
    ax.set_xlabel("|a| w_1")
    ax.set_ylabel("|a| w_2")
    t_end = data[:, col["t"]].max()
    ax.set_title("ReLU network: %d particles (red a > 0, blue a < 0), t <= %g" % (m, t_end),
                 fontsize=10)


def main(arguments):
    arguments, output = split_output_option(arguments)
    if len(arguments) != 1:
        sys.exit(__doc__)
    directory = arguments[0]
    path = os.path.join(directory, "trajectories")
    if not os.path.exists(path):
        sys.exit("plot_trajectories.py: %s has no `trajectories` table (set Particles/"
                 "Trajectory interval > 0)" % directory)
    names, data = read_numeric_table(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if "r" in names and "x" in names:
        deconvolution(ax, directory, names, data)
    elif {"a", "w1", "w2"} <= set(names):
        network(ax, directory, names, data)
    else:
        sys.exit("plot_trajectories.py: draws theta = (x, r) or (a, w1, w2); this run has "
                 + ", ".join(names[3:]))
    ax.grid(True, alpha=0.25)
    fig.tight_layout()
    output = output or os.path.join(directory, "trajectories.png")
    fig.savefig(output, dpi=130)
    print(output)


if __name__ == "__main__":
    main(sys.argv[1:])
