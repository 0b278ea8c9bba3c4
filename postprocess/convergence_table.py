#!/usr/bin/python3
"""Observed convergence orders of the finite-volume PDE solver on the exact solutions E1, E2.

For each verification problem with a closed-form solution (doc/theory.md §3.3)

    E1  potential drift    V(θ) = ½(θ − c)ᵀK(θ − c), no data: μ_t is the push-forward of μ0
                           by the characteristics θ(t) = c + e^{−Kt}(θ0 − c);
    E2  linear features    φ(θ, x) = θ·x, square loss, weight decay: μ_t is an affine
                           push-forward of μ0 (the whole nonlocal pipeline f, g, F', ∇F')

in d = 1 and d = 2, and for both reconstructions of the face densities (first order, minmod),
this script runs `meanfield` (Run mode = pde) on successively refined meshes (each halves h),
reads the L1 error ∫|ρ_h − ρ_exact| at the end time from the last row of
<Output/Directory>/statistics, and prints a Markdown table with the observed orders
log2(e_k / e_{k+1}).

Every run starts from a Gaussian μ0 at least 6 standard deviations away from the boundary of the
box (no-flux boundaries; the mass that the exact flow would carry across the boundary is
negligible), resolved by at least 4 cells per standard deviation on the coarsest mesh. Time
stepping is SSP-RK3 at CFL 0.4, so the time error stays below the spatial one.
Expected orders: 1 for first order; close to 2 for minmod, which in L1 typically shows
1.5-1.9 because the limiter clips the extremum of the Gaussian to first order.

Usage:
    postprocess/convergence_table.py [MEANFIELD] [--markdown FILE] [--keep DIR]

    MEANFIELD        path of the meanfield binary (default: build/meanfield)
    --markdown FILE  also write the table to FILE
    --keep DIR       keep the output directories under DIR instead of temporary ones

Standard library only (Debian's /usr/bin/python3). About 80 s on 2 cores (30 runs; the two 512^2
E1 runs take most of it).
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

# Settings common to every run: --set overrides (section/key = value).
COMMON = {
    "Run mode": "pde",
    "Discretization/Face velocity": "exact",
    "Discretization/Quadrature points": "3",
    "Time stepping/Integrator": "ssp-rk3",
    "Time stepping/CFL number": "0.4",
    "Time stepping/Maximum number of steps": "1000000",
    "Output/Time interval": "0",  # fields (and the L1 error) only at t = 0 and at the end
    "Output/Write VTK": "false",
}

# One entry per (problem, d): problem settings, μ0, end time, coarse subdivisions and the
# number of meshes (coarse mesh refined 0, 1, ... times).
CASES = [
    {
        # E1, d = 1: box [-1, 1], μ0 centred at 0.25 with σ = 0.1 (7.5 σ from the boundary),
        # coarsest h = 1/40 (4 cells per σ); at t = 0.5 the width is σ e^{-0.5} = 0.061.
        "problem": "E1 potential drift",
        "dim": 1,
        "settings": {
            "Problem/Type": "potential drift",
            "Problem/Potential drift/Stiffness": "1",
            "Problem/Potential drift/Center": "0",
            "Problem/Potential drift/Box half-width": "1",
            "Initial condition/Density": "exp(-(x - 0.25)^2 / (2 * s^2))",
            "Initial condition/Function constants": "s=0.1",
            "Time stepping/End time": "0.5",
        },
        "subdivisions": 80,
        "meshes": 4,
    },
    {
        # E1, d = 2: box [-1, 1]^2, K = diag(1, 2), μ0 centred at (0.25, 0.25) with σ = 0.125
        # (6 σ from the boundary), coarsest h = 1/32 (4 cells per σ).
        "problem": "E1 potential drift",
        "dim": 2,
        "settings": {
            "Problem/Type": "potential drift",
            "Problem/Potential drift/Stiffness": "1, 2",
            "Problem/Potential drift/Center": "0, 0",
            "Problem/Potential drift/Box half-width": "1",
            "Initial condition/Density": "exp(-((x - 0.25)^2 + (y - 0.25)^2) / (2 * s^2))",
            "Initial condition/Function constants": "s=0.125",
            "Time stepping/End time": "0.25",
        },
        "subdivisions": 64,
        "meshes": 4,
    },
    {
        # E2, d = 1: box [-1.5, 1.5], θ* = 0.7, λ = 0.5, μ0 centred at -0.5 with σ = 0.15
        # (6.7 σ from the boundary), coarsest h = 3/80 (4 cells per σ).
        "problem": "E2 linear features",
        "dim": 1,
        "settings": {
            "Problem/Type": "linear features",
            "Problem/Linear features/Target": "0.7",
            "Problem/Linear features/Weight decay": "0.5",
            "Problem/Linear features/Number of samples": "20",
            "Problem/Linear features/Box half-width": "1.5",
            "Problem/Linear features/Seed": "1",
            "Initial condition/Density": "exp(-(x + 0.5)^2 / (2 * s^2))",
            "Initial condition/Function constants": "s=0.15",
            "Time stepping/End time": "0.5",
        },
        "subdivisions": 80,
        "meshes": 4,
    },
    {
        # E2, d = 2: box [-1.5, 1.5]^2, θ* = (0.5, -0.5), λ = 0.5, μ0 centred at (-0.5, 0.5)
        # with σ = 0.15 (6.7 σ from the boundary), coarsest h = 3/80 (4 cells per σ).
        "problem": "E2 linear features",
        "dim": 2,
        "settings": {
            "Problem/Type": "linear features",
            "Problem/Linear features/Target": "0.5, -0.5",
            "Problem/Linear features/Weight decay": "0.5",
            "Problem/Linear features/Number of samples": "20",
            "Problem/Linear features/Box half-width": "1.5",
            "Problem/Linear features/Seed": "1",
            "Initial condition/Density": "exp(-((x + 0.5)^2 + (y - 0.5)^2) / (2 * s^2))",
            "Initial condition/Function constants": "s=0.15",
            "Time stepping/End time": "0.25",
        },
        "subdivisions": 80,
        "meshes": 3,
    },
]

RECONSTRUCTIONS = ["first order", "minmod"]


def read_statistics(path):
    """Column names (from the '# N: name -- description' header) and the rows of a statistics file."""
    names, rows = {}, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                head = line[1:].split("--", 1)[0]
                number, _, name = head.partition(":")
                if number.strip().isdigit():
                    names[name.strip()] = int(number) - 1
                continue
            rows.append([float(v) for v in line.split()])
    return names, rows


def run_case(binary, case, reconstruction, refinement, workdir):
    """Run one mesh; returns (cells per direction, final L1 error, wall seconds)."""
    dim = case["dim"]
    outdir = os.path.join(
        workdir,
        "%s-%dd-%s-r%d" % (case["problem"].split()[0], dim, reconstruction.replace(" ", "-"), refinement),
    )
    base = os.path.join(workdir, "base-%dd.prm" % dim)
    with open(base, "w") as f:  # a minimal file; everything else comes from --set
        f.write("set Dimension = %d\nset Run mode = pde\n" % dim)
    settings = dict(COMMON)
    settings.update(case["settings"])
    settings["Discretization/Reconstruction"] = reconstruction
    settings["Mesh/Subdivisions"] = str(case["subdivisions"])
    settings["Mesh/Global refinements"] = str(refinement)
    settings["Output/Directory"] = outdir
    command = [binary]
    for key, value in settings.items():
        command += ["--set", "%s=%s" % (key, value)]
    command.append(base)
    start = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit("meanfield failed (exit %d):\n  %s\n%s"
                 % (result.returncode, " ".join(repr(c) for c in command), result.stdout[-3000:]))
    names, rows = read_statistics(os.path.join(outdir, "statistics"))
    if "L1 error" not in names or not rows:
        sys.exit("%s/statistics has no 'L1 error' column or no rows" % outdir)
    last = rows[-1]
    end_time = float(case["settings"]["Time stepping/End time"])
    if abs(last[names["time"]] - end_time) > 1e-9 * max(1.0, end_time):
        sys.exit("%s: the run stopped at t = %g before End time = %g"
                 % (outdir, last[names["time"]], end_time))
    error = last[names["L1 error"]]
    if math.isnan(error):
        sys.exit("%s: no L1 error on the last row" % outdir)
    return case["subdivisions"] * 2 ** refinement, error, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("meanfield", nargs="?", default="build/meanfield",
                        help="path of the meanfield binary (default: build/meanfield)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the output directories under DIR (default: a temporary directory)")
    args = parser.parse_args()
    binary = os.path.abspath(args.meanfield)
    if not os.access(binary, os.X_OK):
        sys.exit("no executable meanfield at %s (build it, or pass its path)" % binary)

    lines = [
        "| problem | d | reconstruction | cells | L1 error | observed order |",
        "|---|---|---|---|---|---|",
    ]
    total = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="meanfield-convergence-") as tmp:
        workdir = os.path.abspath(args.keep) if args.keep else tmp
        os.makedirs(workdir, exist_ok=True)
        for case in CASES:
            for reconstruction in RECONSTRUCTIONS:
                previous = None
                for refinement in range(case["meshes"]):
                    n, error, seconds = run_case(binary, case, reconstruction,
                                                 refinement, workdir)
                    order = "" if previous is None else "%.2f" % math.log2(previous / error)
                    previous = error
                    cells = str(n) if case["dim"] == 1 else "%d × %d" % (n, n)
                    lines.append("| %s | %d | %s | %s | %.3e | %s |"
                                 % (case["problem"], case["dim"], reconstruction, cells, error, order))
                    print("  %-20s d = %d  %-11s  %5d^%d cells  L1 error %.3e  %s  (%.1f s)"
                          % (case["problem"], case["dim"], reconstruction, n, case["dim"], error,
                             "order " + order if order else "", seconds), file=sys.stderr)
    table = "\n".join(lines) + "\n"
    print(table, end="")
    print("total %.0f s" % (time.monotonic() - total), file=sys.stderr)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
