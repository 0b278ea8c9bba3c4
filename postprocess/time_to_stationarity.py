#!/usr/bin/python3
"""Time to stationarity of pde_sparse_deconvolution.prm (issue 12's performance table).

Runs the example (128 x 129 cells, r = 0 on cell centres) with each scheme, reads the
statistics, and prints, for each run, the first state with
    F - F_ref <= 1e-4 F_ref   and   residual = ||L(rho_h)||_L1 <= --residual,
the steps and wall time (of the time loop) to get there, and the run's summary (KSP iterations,
time split). F_ref is F at --reference-time of a first implicit run (the stationary value of the
first-order scheme; F still falls by ~1e-7 per unit time there). The minmod run has its own
stationary state: it is measured against its own F at its end time.

Usage: postprocess/time_to_stationarity.py build/meanfield [--quick]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meanfield_table import read_columns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "parameter_files", "pde_sparse_deconvolution.prm")


def parameter_file(directory, name, end_time, settings):
    """The example with Time stepping / Discretization entries replaced, no VTK output."""
    text = open(EXAMPLE).read()
    lines = []
    for line in text.splitlines():
        key = line.split("#")[0].strip()
        if key.startswith("set "):
            entry = key[4:].split("=")[0].strip()
            if entry in settings or entry in ("End time", "Write VTK", "Directory",
                                              "Stationarity tolerance"):
                continue
        lines.append(line)
    extra = "\n".join(f"  set {k} = {v}" for k, v in settings.items() if k != "Reconstruction")
    text = "\n".join(lines)
    text = text.replace("subsection Time stepping", "subsection Time stepping\n" + extra +
                        f"\n  set End time = {end_time}\n  set Stationarity tolerance = 0", 1)
    reconstruction = settings.get("Reconstruction", "minmod")
    text = text.replace("subsection Discretization",
                        f"subsection Discretization\n  set Reconstruction = {reconstruction}", 1)
    out = os.path.join(directory, name)
    text = text.replace("subsection Output", f"subsection Output\n  set Directory = {out}\n"
                        "  set Write VTK = false", 1)
    path = os.path.join(directory, name + ".prm")
    with open(path, "w") as f:
        f.write(text + "\n")
    return path, out


def run(binary, directory, name, end_time, settings, extra_args=()):
    path, out = parameter_file(directory, name, end_time, settings)
    log = subprocess.run([binary, path, *extra_args], capture_output=True, text=True)
    if log.returncode != 0:
        sys.exit(f"{name}: meanfield failed:\n{log.stdout[-2000:]}\n{log.stderr[-2000:]}")
    columns = read_columns(os.path.join(out, "statistics"))
    return columns, log.stdout


def first_stationary(columns, F_ref, residual):
    F, r = columns["F"], columns["residual"]
    for k in range(len(F)):
        if F[k] - F_ref <= 1e-4 * F_ref and r[k] <= residual:
            return k
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--residual", type=float, default=1e-3)
    parser.add_argument("--reference-time", type=float, default=60.0)
    parser.add_argument("--explicit-end", type=float, default=25.0)
    parser.add_argument("--quick", action="store_true", help="skip the minmod and the linearly "
                        "implicit runs (the slowest)")
    args = parser.parse_args()
    first = {"Reconstruction": "first order"}
    runs = [("reference: implicit (Newton), Step tolerance 5", args.reference_time,
             {**first, "Scheme": "implicit", "Step tolerance": 5}),
            ("implicit (Newton), Step tolerance 5", args.explicit_end,
             {**first, "Scheme": "implicit", "Step tolerance": 5}),
            ("implicit (Newton), Step tolerance 1", args.explicit_end,
             {**first, "Scheme": "implicit", "Step tolerance": 1}),
            ("explicit SSP-RK2, first order, CFL 0.5", args.explicit_end,
             {**first, "Scheme": "explicit", "Integrator": "ssp-rk2", "CFL number": 0.5})]
    if not args.quick:
        runs += [("linearly implicit, Step tolerance 0.1", args.explicit_end,
                  {**first, "Scheme": "linearly implicit", "Step tolerance": 0.1}),
                 ("explicit SSP-RK2, minmod, CFL 0.4 (the example)", args.explicit_end,
                  {"Reconstruction": "minmod", "Scheme": "explicit", "Integrator": "ssp-rk2",
                   "CFL number": 0.4})]
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        F_ref = None
        for k, (label, end, settings) in enumerate(runs):
            columns, log = run(args.binary, directory, f"run{k}", end, settings)
            if F_ref is None:
                F_ref = columns["F"][-1]
            reference = columns["F"][-1] if settings["Reconstruction"] == "minmod" else F_ref
            hit = first_stationary(columns, reference, args.residual)
            split = re.search(r"time split \(rank 0\): (.*)", log)
            its = "-"
            if "KSP iterations" in columns and hit is not None and hit > 0:
                # Krylov iterations per step up to the state that met the criterion
                its = f"{sum(columns['KSP iterations'][:hit]) / hit:.1f}"
            if k > 0:
                rows.append((label, hit, columns, reference, split.group(1) if split else "",
                             its))
            print(f"  done: {label}", file=sys.stderr)
    print(f"F_ref = {F_ref:.8f} (first order, implicit run at t = {args.reference_time}); "
          f"criterion F - F_ref <= 1e-4 F_ref and residual <= {args.residual}\n")
    print(f"| {'run':48s} | {'t':>7s} | {'steps':>7s} | {'wall s':>7s} | {'KSP/step':>9s} | "
          f"time split (the whole run, to t = {args.explicit_end}) |")
    print("|" + "-" * 50 + "|" + "-" * 9 + "|" + "-" * 9 + "|" + "-" * 9 + "|" + "-" * 11 +
          "|---|")
    for label, hit, columns, reference, split, its in rows:
        if hit is None:
            print(f"| {label:48s} | not reached by t = {columns['time'][-1]:.3g} "
                  f"(F - F_ref = {columns['F'][-1] - reference:.2e}, residual "
                  f"{columns['residual'][-1]:.2e}) | | | {its} | {split} |")
        else:
            print(f"| {label:48s} | {columns['time'][hit]:7.3g} | {int(columns['step'][hit]):7d} | "
                  f"{columns['wall time'][hit]:7.2f} | {its:>9s} | {split} |")
    walls = {label: columns["wall time"][hit] for label, hit, columns, *_ in rows
             if hit is not None}
    implicit, explicit = "implicit (Newton), Step tolerance 5", "explicit SSP-RK2, first order, CFL 0.5"
    if implicit in walls and explicit in walls:
        print(f"\nexplicit / implicit wall time to stationarity: "
              f"{walls[explicit] / walls[implicit]:.1f}x")


if __name__ == "__main__":
    main()
