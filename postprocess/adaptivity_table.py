#!/usr/bin/python3
"""Stationary F of the sparse-deconvolution PDE on uniform and adaptive meshes (doc/adaptivity.md).

Runs `meanfield` on parameter_files/pde_sparse_deconvolution_adaptive.prm (backward Euler to
stationarity) with uniform meshes 64^2, 128^2, 256^2 and adaptive meshes from 64^2 with 1-4 levels
(and the two other kink treatments at 2 and 3 levels), prints F_h - F* against the finest level with
the observed orders, the cells and the wall times, and writes a CSV and the work-precision figure.

Usage: /usr/bin/python3 postprocess/adaptivity_table.py build/meanfield [output directory]
"""
import csv
import math
import os
import re
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRM = os.path.join(ROOT, "parameter_files", "pde_sparse_deconvolution_adaptive.prm")


def run(binary, out, name, sets):
    directory = os.path.join(out, name)
    args = [binary, PRM, "--set", "Output/Directory=" + directory, "--set", "Output/Overwrite=true",
            "--set", "Output/Write VTK=false"]
    for key, value in sets.items():
        args += ["--set", key + "=" + str(value)]
    start = time.time()
    log = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    wall = time.time() - start
    excess = float(re.search(r"F - F\* = ([-0-9.e+]+)", log).group(1))
    rows = [line.split() for line in open(os.path.join(directory, "statistics"))
            if not line.startswith("#") and line.strip()]
    header = [line for line in open(os.path.join(directory, "statistics")) if line.startswith("# ")]
    names = [re.match(r"# *\d+: (.*?) --", h).group(1) for h in header if re.match(r"# *\d+: ", h)]
    cells = int(rows[-1][names.index("cells")]) if "cells" in names else None
    return excess, cells, wall


def main():
    binary = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "results", "adaptivity")
    os.makedirs(out, exist_ok=True)
    uniform = {"Mesh/Refinement/Adaptive": "false"}
    cases = []
    for g, n in ((2, 64), (3, 128), (4, 256)):
        cases.append(("uniform", n, "-", {**uniform, "Mesh/Global refinements": g}))
    for level in (1, 2, 3, 4):
        cases.append(("adaptive", 64 << level, "centred row", {"Mesh/Refinement/Maximum level": level}))
    for treatment in ("trapped velocity", "none"):
        for level in (2, 3):
            cases.append(("adaptive", 64 << level, treatment,
                          {"Mesh/Refinement/Maximum level": level,
                           "Mesh/Refinement/Kink treatment": treatment}))
    results = []
    for kind, finest, treatment, sets in cases:
        name = f"{kind}_{finest}" + ("" if kind == "uniform" else "_" + treatment.replace(" ", "_"))
        excess, cells, wall = run(binary, out, name, sets)
        cells = cells if cells is not None else finest * finest
        results.append((kind, finest, treatment, cells, excess, wall))
        print(f"  {name}: F - F* = {excess:.3e}, {cells} cells, {wall:.1f} s", flush=True)

    print("\n| mesh | finest level = h of | kink treatment | cells (final) | F_h - F* | order | wall |")
    print("|---|---|---|---|---|---|---|")
    previous = {}
    for kind, finest, treatment, cells, excess, wall in results:
        key = (kind, treatment)
        order = ""
        if key in previous and previous[key][0] * 2 == finest:
            order = f"{math.log2(previous[key][1] / excess):.2f}"
        previous[key] = (finest, excess)
        print(f"| {kind} | {finest}² | {treatment} | {cells} | {excess:.3e} | {order} | {wall:.1f} s |")
    with open(os.path.join(out, "stationary.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["mesh", "finest", "kink_treatment", "cells", "F_minus_Fstar", "wall_s"])
        writer.writerows(results)

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for (kind, treatment), style in ((("uniform", "-"), "o-"), (("adaptive", "centred row"), "s-"),
                                     (("adaptive", "trapped velocity"), "^--"),
                                     (("adaptive", "none"), "v--")):
        points = [(r[5], r[4], r[1]) for r in results if r[0] == kind and r[2] == treatment]
        if not points:
            continue
        ax.loglog([p[0] for p in points], [p[1] for p in points], style,
                  label=kind + ("" if treatment == "-" else f" ({treatment})"))
        for wall, excess, finest in points:
            ax.annotate(f"{finest}²", (wall, excess), textcoords="offset points", xytext=(4, 4),
                        fontsize=7)
    ax.axhline(1e-4, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("wall time to stationarity [s] (one rank)")
    ax.set_ylabel("F_h(∞) − F*")
    ax.set_title("Sparse deconvolution: stationary F, uniform vs adaptive")
    ax.legend(fontsize=8)
    fig.tight_layout()
    figure = os.path.join(ROOT, "doc", "figures", "adaptivity_stationary.png")
    fig.savefig(figure, dpi=130)
    print(f"\nwrote {os.path.join(out, 'stationary.csv')} and {figure}")


if __name__ == "__main__":
    main()
