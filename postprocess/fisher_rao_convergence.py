#!/usr/bin/python3
"""Convergence in time of the particle flows on the paper's sparse deconvolution (doc/fisher_rao.md).

Runs `Run mode = particles` with the settings of parameter_files/paper_fisher_rao_deconvolution.prm
(m0 = 5 spikes, lambda = 0.2, m particles from r = 0 on evenly spaced positions, forward-backward
with backtracking) for the Wasserstein flow and the Wasserstein-Fisher-Rao flows (mass free, M15,
and mass preserved, M14), on the problem instances Seed = 1, 2, 3, and draws the excess
F - F* against the iterations (log scale): the work-per-accuracy view of Chizat (2022), Fig. 2.
Prints, per instance and flow, the iterations to F - F* <= 1e-8 F* and the linear rate fitted on
the tail (the slope of log(F - F*) between 1e-3 F* and 1e-9 F*).

Usage: /usr/bin/python3 postprocess/fisher_rao_convergence.py build/meanfield [--m 10]
       [--out results/fisher_rao_convergence]
Writes <out>/<flow>_s<seed>/statistics, <out>/convergence.csv and
doc/figures/fisher_rao_convergence.png.
"""
import argparse
import csv
import math
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meanfield_table import read_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRM = os.path.join(ROOT, "parameter_files", "paper_fisher_rao_deconvolution.prm")
# (a statistics row every 1000, 10 and 100 steps: each flow's steps to F* resolved to ~0.1%)
FLOWS = {
    "wasserstein": ("Wasserstein (M5)", {"Dynamics/Type": "wasserstein",
                                         "Dynamics/Fisher-Rao rate": 0,
                                         "Particles/Statistics interval": 1000}),
    "conic": ("Wasserstein-Fisher-Rao, mass free (M15)",
              {"Dynamics/Mass": "free", "Particles/Statistics interval": 10}),
    "replicator": ("Wasserstein-Fisher-Rao, mass preserved (M14)",
                   {"Dynamics/Mass": "preserved", "Particles/Statistics interval": 100}),
}
SEEDS = (1, 2, 3)


def run(binary, out, flow, seed, m):
    directory = os.path.join(out, f"{flow}_s{seed}")
    sets = {"Run mode": "particles", "Particles/Number of particles": m,
            "Problem/Sparse deconvolution/Seed": seed,
            "Particles/Stationarity tolerance": 0, "Particles/End time": 40,
            "Particles/Maximum number of iterations": 1000000,
            "Output/Directory": directory, "Output/Overwrite": "true",
            "Output/Write VTK": "false", **FLOWS[flow][1]}
    args = [binary, PRM]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    subprocess.run(args, capture_output=True, text=True, check=True)
    names, rows = read_table(os.path.join(directory, "statistics"))
    column = {n: i for i, n in enumerate(names)}
    iterations = np.array([float(r[column["iteration"]]) for r in rows])
    excess = np.array([float(r[column["F - F*"]]) for r in rows])
    F = np.array([float(r[column["F"]]) for r in rows])
    return iterations, excess, F[-1] - excess[-1]  # (F* from the last row)


def summary(iterations, excess, f_star):
    """Iterations to F - F* <= 1e-8 F*, and the tail's linear rate (per iteration)."""
    reached = np.nonzero(excess <= 1e-8 * f_star)[0]
    first = int(iterations[reached[0]]) if len(reached) else None
    tail = (excess < 1e-3 * f_star) & (excess > 1e-9 * f_star)
    rate = None
    if tail.sum() >= 5:
        rate = -np.polyfit(iterations[tail], np.log(excess[tail]), 1)[0]
    return first, rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--m", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, "results", "fisher_rao_convergence"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fig, axes = plt.subplots(1, len(SEEDS), figsize=(4.0 * len(SEEDS), 3.4), sharey=True)
    rows = []
    print(f"| instance | flow | iterations to F - F* <= 1e-8 F* | linear rate per iteration |")
    print("|---|---|---|---|")
    for ax, seed in zip(axes, SEEDS):
        for flow, (label, _) in FLOWS.items():
            iterations, excess, f_star = run(args.binary, args.out, flow, seed, args.m)
            first, rate = summary(iterations, excess, f_star)
            rows.append([seed, flow, first, rate, f_star])
            shown = np.maximum(excess / f_star, 1e-16)
            ax.semilogy(iterations, shown, label=label, lw=1.2)
            rate_text = f"{rate:.3g}" if rate else "–"
            print(f"| {seed} | {label} | {first if first is not None else 'not reached'} | "
                  f"{rate_text} |", flush=True)
        ax.axhline(1e-8, color="grey", lw=0.7, ls=":")
        ax.set_xscale("symlog", linthresh=1000)
        ax.set_xlim(left=0)
        ax.set_xlabel("iteration")
        ax.set_title(f"instance Seed = {seed}, m = {args.m}", fontsize=9)
        ax.grid(True, which="both", alpha=0.25)
    axes[0].set_ylabel("(F - F*) / F*")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    figure = os.path.join(ROOT, "doc", "figures", "fisher_rao_convergence.png")
    fig.savefig(figure, dpi=130)
    with open(os.path.join(args.out, "convergence.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seed", "flow", "iterations_to_1e-8", "linear_rate", "F_star"])
        writer.writerows(rows)
    print(f"wrote {figure}")


if __name__ == "__main__":
    main()
