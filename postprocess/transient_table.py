#!/usr/bin/python3
"""The PDE's own error E_h along the flow, uniform against adaptive meshes (doc/adaptivity.md).

For every mesh X of a problem's list, one `Run mode = study` on two MPI ranks gives both
estimates of E_h (doc/theory.md M11h, M11i) at three times of the flow:

* the particle fit: MMD^2 = C/m + E_h^2 (and the prediction distance likewise) over i.i.d.
  particle runs m = 1e3, 3e3, 1e4 (two seeds each; m up to 3e4 where E_h is small);
* the refinement estimate E_ref = d1 / (1 - 2^-p) (Richardson, M11i, with the observed order p:
  1 for deconvolution, 2 for the ReLU network), d1 the distance to the mesh X refined once (the
  base and every level halved), in MMD, sliced W2 and prediction distance; for the finest mesh
  of a series, whose refined reference is out of reach, E_ref = d1 / (2^p - 1) with d1 of the
  study one mesh coarser (the Richardson estimate of the finer mesh of that pair).

Problems:
  deconvolution  parameter_files/default.prm (minmod, SSP-RK2, Kink treatment = none), t = 0.1, 0.3, 1
  relu           parameter_files/pde_relu_network.prm (3D, minmod, SSP-RK2), t = 2, 5, 20

Prints the markdown table (E_h by both estimates, their ratio, cells, steps, PDE wall time, and
the observed orders of E_ref between successive meshes of a series), writes
results/adaptivity/<problem>_transient.csv and the work-precision figure
doc/figures/adaptivity_<problem>_transient.png (E_h in MMD at the last time against the PDE's wall
time, uniform and adaptive, with the particles' own error sqrt(C/m) against their run time).

Usage: /usr/bin/python3 postprocess/transient_table.py build/meanfield [--problem relu]
       [--out results/adaptivity] [--only NAME ...] [--np 2]
A case whose log and study_decomposition exist is read, not re-run.
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meanfield_table import read_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_M = "1000, 3000, 10000"
LARGE_M = "1000, 3000, 10000, 30000"


def case(problem, name, base, levels, reference, m=SMALL_M, seeds=2):
    """A study: `base` = Global refinements, `levels` adaptive levels above it."""
    n0 = problem["subdivisions"] << base
    sets = {"Mesh/Global refinements": base, "Study/Reference refinements": reference,
            "Study/Particle numbers": m, "Study/Seeds": seeds}
    if levels:
        sets.update(problem["adaptive"])
        sets["Mesh/Refinement/Maximum level"] = levels
    power = problem["power"]
    label = f"uniform {n0}{power}" if not levels else \
        f"{n0}{power} + {levels} level{'s' if levels > 1 else ''}"
    return {"name": name, "label": label, "base": n0, "finest": n0 << levels, "levels": levels,
            "sets": sets}


DECONVOLUTION = {
    "prm": "default.prm", "times": (0.1, 0.3, 1.0), "subdivisions": 16, "power": "²",
    "order": 1,  # of E_ref (M11i): the observed order in MMD (0.9-1.1)
    "prefix": "transient_", "csv": "transient.csv", "figure": "adaptivity_transient.png",
    "title": "Default problem at t = 1: work against precision",
    "sets": {},
    "adaptive": {"Mesh/Refinement/Adaptive": "true", "Mesh/Refinement/Adaptation interval": 5,
                 "Mesh/Refinement/Buffer cells": 3, "Mesh/Refinement/Buffer reserve": 6,
                 "Mesh/Refinement/Kink treatment": "none"},
}
DECONVOLUTION["cases"] = [
    case(DECONVOLUTION, "uniform_64", 2, 0, 1),
    case(DECONVOLUTION, "uniform_128", 3, 0, 1),
    case(DECONVOLUTION, "uniform_256", 4, 0, 0),
    case(DECONVOLUTION, "adaptive_16_3", 0, 3, 1),
    case(DECONVOLUTION, "adaptive_32_2", 1, 2, 1),
    case(DECONVOLUTION, "adaptive_64_1", 2, 1, 1),
    case(DECONVOLUTION, "adaptive_32_3", 1, 3, 1),
    case(DECONVOLUTION, "adaptive_64_2", 2, 2, 1),
    case(DECONVOLUTION, "adaptive_32_4", 1, 4, 1),
    case(DECONVOLUTION, "adaptive_64_3", 2, 3, 1, m=LARGE_M, seeds=4),
    case(DECONVOLUTION, "adaptive_64_4", 2, 4, 0, m=LARGE_M),
]

RELU = {
    "prm": "pde_relu_network.prm", "times": (2.0, 5.0, 20.0), "subdivisions": 8, "power": "³",
    "order": 2,  # of E_ref (M11i): the observed order in MMD (1.8-2.0; minmod, smooth flow)
    "prefix": "relu_", "csv": "relu_transient.csv", "figure": "adaptivity_relu_transient.png",
    "title": "3D ReLU network at t = 20: work against precision",
    # particles: Heun with eta = 0.05 (the PDE's steps reach ~1 by t = 20); MMD at the scale
    # of the mesh cells (h = 5/16 ... 5/128)
    "sets": {"Particles/Integrator": "rk2", "Particles/Step": 0.05,
             "Comparison/MMD bandwidth": 0.2},
    "adaptive": {"Mesh/Refinement/Adaptive": "true", "Mesh/Refinement/Adaptation interval": 10,
                 "Mesh/Refinement/Buffer cells": 0, "Mesh/Refinement/Buffer reserve": 4},
}
RELU["cases"] = [
    case(RELU, "uniform_16", 1, 0, 1),
    case(RELU, "uniform_32", 2, 0, 1),
    case(RELU, "uniform_64", 3, 0, 1),
    case(RELU, "adaptive_16_1", 1, 1, 1),
    case(RELU, "adaptive_16_2", 1, 2, 1),
    case(RELU, "adaptive_16_3", 1, 3, 1),
]
PROBLEMS = {"deconvolution": DECONVOLUTION, "relu": RELU}


def run_study(binary, out, problem, c, np):
    directory = os.path.join(out, problem["prefix"] + c["name"])
    log_path = directory + ".log"
    if os.path.exists(os.path.join(directory, "study_decomposition")) and os.path.exists(log_path):
        return directory, open(log_path).read()
    args = ["mpirun", "-np", str(np), binary, os.path.join(ROOT, "parameter_files", problem["prm"]),
            "--set", "Run mode=study",
            "--set", "Study/Times=" + ", ".join(f"{t:g}" for t in problem["times"]),
            "--set", "Study/Initializations=iid",
            "--set", "Output/Write VTK=false", "--set", "Output/Overwrite=true",
            "--set", "Output/Directory=" + directory]
    for key, value in {**problem["sets"], **c["sets"]}.items():
        args += ["--set", f"{key}={value}"]
    log = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    with open(log_path, "w") as f:
        f.write(log)
    return directory, log


def time_pde(binary, out, problem, c, np):
    """The PDE alone (`Run mode = pde`, no output but the statistics) to the last time: the wall
    time of its time loop, measured one run at a time on an otherwise idle machine."""
    directory = os.path.join(out, problem["prefix"] + c["name"] + "_timing")
    args = ["mpirun", "-np", str(np), binary, os.path.join(ROOT, "parameter_files", problem["prm"]),
            "--set", "Run mode=pde", "--set", f"Time stepping/End time={problem['times'][-1]:g}",
            "--set", "Output/Write VTK=false", "--set", "Output/Overwrite=true",
            "--set", "Output/Time interval=0", "--set", "Output/Directory=" + directory]
    for key, value in {**problem["sets"], **c["sets"]}.items():
        if not key.startswith("Study/") and not key.startswith("Particles/"):
            args += ["--set", f"{key}={value}"]
    log = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    wall = float(re.search(r"\| time loop \(kernel, operator, solver\) *\| *\d+ \| *([0-9.e+]+)s", log).group(1))
    subprocess.run(["rm", "-rf", directory])
    return wall


def rows_of(path):
    names, rows = read_table(path)
    return [dict(zip(names, row)) for row in rows]


def parse(directory, log):
    """E_h estimates by time, the PDE's cells, steps and wall time, the particle run times."""
    base = re.search(r"PDE on (\d+) cells to t = \S+ \.\.\. (\d+) steps \(([0-9.e+]+) s\), "
                     r"(\d+) cells at the end", log)
    result = {"cells0": int(base.group(1)), "steps": int(base.group(2)),
              "wall": float(base.group(3)), "cells": int(base.group(4)), "by_time": {}}
    reference = re.search(r"reference PDE: (\d+) cells at t = \S+, (\d+) steps \(([0-9.e+]+) s\)",
                          log)
    if reference:
        result["reference"] = {"cells": int(reference.group(1)), "steps": int(reference.group(2)),
                               "wall": float(reference.group(3))}
    # particle runs: cumulative wall times per (m, seed)
    runs = re.findall(r"m = +(\d+) +seed (\d+) +MMD at t = \S+: \S+ +\(([0-9.e+]+) s\)", log)
    previous, per_m = 0.0, {}
    for m, _, elapsed in runs:
        per_m.setdefault(int(m), []).append(float(elapsed) - previous)
        previous = float(elapsed)
    result["particle_wall"] = {m: sum(w) / len(w) for m, w in per_m.items()}
    for row in rows_of(os.path.join(directory, "study_decomposition")):
        entry = result["by_time"].setdefault(float(row["time"]), {})
        key = "mmd" if row["metric"] == "MMD" else "prediction"
        entry[key] = {"E_h": float(row["E_h"]), "se": float(row["se E_h"]), "C": float(row["C"])}
    for row in rows_of(os.path.join(directory, "study_pde_error")):
        entry = result["by_time"].setdefault(float(row["time"]), {})
        entry["d1"] = {"mmd": float(row["MMD"]), "prediction": float(row["prediction distance"]),
                       "sw2": float(row["sliced W2"])}
    return result


def fmt(x, digits=3):
    """Three decimals, or two significant digits below 0.01 (the fine 3D meshes); – for none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"


def series_of(c):
    """Meshes of one series share the base (uniform) or the base cells per level (adaptive)."""
    return ("uniform", 0) if not c["levels"] else ("adaptive", c["base"])


def refinement_estimate(problem, results, c, t, metric):
    """Richardson with the problem's order p (M11i): d1 / (1 - 2^-p) from the mesh's own study,
    else d1 / (2^p - 1) of the study one mesh coarser (same levels): the finer mesh's error."""
    p = problem["order"]
    own = results[c["name"]]["by_time"][t].get("d1")
    if own is not None and not math.isnan(own[metric]):
        return own[metric] / (1.0 - 2.0 ** -p)
    for other in problem["cases"]:
        if other["levels"] == c["levels"] and other["finest"] * 2 == c["finest"] and \
                other["name"] in results and results[other["name"]]["by_time"][t].get("d1"):
            coarser = results[other["name"]]["by_time"][t]["d1"][metric]
            if not math.isnan(coarser):
                return coarser / (2.0 ** p - 1.0)
    return None


def order(problem, results, c, t):
    """log2 of E_ref(previous) / E_ref(c), the previous mesh of the series having twice its h
    (None for a mesh without its own reference: its E_ref is the previous one's d1, and the
    ratio would be 2 by construction)."""
    own = results[c["name"]]["by_time"][t].get("d1")
    if own is None or math.isnan(own["mmd"]):
        return None
    for other in problem["cases"]:
        if other["name"] in results and series_of(other) == series_of(c) and \
                other["finest"] * 2 == c["finest"]:
            a = refinement_estimate(problem, results, other, t, "mmd")
            b = refinement_estimate(problem, results, c, t, "mmd")
            if a and b:
                return math.log2(a / b)
    return None


def print_table(problem, results):
    print("\n| PDE mesh | finest h of | cells (start / end) | steps | PDE wall | t | "
          "E_h MMD (particle fit) | E_ref MMD | fit / ref | order | E_h prediction (fit) | "
          "E_ref prediction | E_ref sliced W2 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    power = problem["power"]
    for c in problem["cases"]:
        if c["name"] not in results:
            continue
        r = results[c["name"]]
        for t in problem["times"]:
            e = r["by_time"][t]
            fit, pred = e["mmd"]["E_h"], e["prediction"]["E_h"]
            ref = refinement_estimate(problem, results, c, t, "mmd")
            ratio = fit / ref if ref and fit > 0 else None
            head = (f"| {c['label']} | {c['finest']}{power} | {r['cells0']} / {r['cells']} | "
                    f"{r['steps']} | {r['wall']:.1f} s") if t == problem["times"][0] else \
                "| | | | |"
            fitted = f"{fmt(fit)} ± {fmt(e['mmd']['se'])}" if fit > 0 else "unresolved"
            print(f"{head} | {t:g} | {fitted} | {fmt(ref)} | "
                  f"{fmt(ratio, 2)} | {fmt(order(problem, results, c, t), 2)} | {fmt(pred)} | "
                  f"{fmt(refinement_estimate(problem, results, c, t, 'prediction'))} | "
                  f"{fmt(refinement_estimate(problem, results, c, t, 'sw2'))} |")


def write_csv(problem, results, out):
    with open(os.path.join(out, problem["csv"]), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["case", "finest", "levels", "cells_start", "cells_end", "steps",
                         "wall_s", "time", "E_h_mmd_fit", "se", "E_ref_mmd", "order_E_ref",
                         "E_h_prediction_fit", "E_ref_prediction", "E_ref_sliced_w2", "C_mmd"])
        for c in problem["cases"]:
            if c["name"] not in results:
                continue
            r = results[c["name"]]
            for t in problem["times"]:
                e = r["by_time"][t]
                writer.writerow([c["name"], c["finest"], c["levels"], r["cells0"], r["cells"],
                                 r["steps"], r["wall"], t, e["mmd"]["E_h"], e["mmd"]["se"],
                                 refinement_estimate(problem, results, c, t, "mmd"),
                                 order(problem, results, c, t), e["prediction"]["E_h"],
                                 refinement_estimate(problem, results, c, t, "prediction"),
                                 refinement_estimate(problem, results, c, t, "sw2"),
                                 e["mmd"]["C"]])


def plot(problem, results):
    t_end = problem["times"][-1]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    series = {}
    for c in problem["cases"]:
        if c["name"] in results:
            series.setdefault(series_of(c), []).append(c)
    markers = iter("osD^v<>")
    for (kind, base), cases in sorted(series.items(), key=lambda s: (s[0][0] != "uniform", s[0][1])):
        label = "PDE, uniform" if kind == "uniform" else \
            f"PDE, adaptive from {base}{problem['power']}"
        walls = [results[c["name"]]["wall"] for c in cases]
        refs = [refinement_estimate(problem, results, c, t_end, "mmd") or float("nan")
                for c in cases]
        fits = [results[c["name"]]["by_time"][t_end]["mmd"]["E_h"] for c in cases]
        marker = next(markers)
        line, = ax.loglog(walls, refs, marker + "-", label=label + " (refinement)")
        ax.loglog(walls, [f if f > 0 else float("nan") for f in fits], marker + ":", mfc="none",
                  color=line.get_color(), label=label + " (particle fit)")
        for c, wall, ref in zip(cases, walls, refs):
            ax.annotate(c["label"], (wall, ref), textcoords="offset points", xytext=(4, 3),
                        fontsize=6)
    # the particles: their own error sqrt(C/m) against the wall time of one run (two ranks)
    largest = max(results.values(), key=lambda r: max(r["particle_wall"]))
    c_mmd = largest["by_time"][t_end]["mmd"]["C"]
    ms = sorted(largest["particle_wall"])
    ax.loglog([largest["particle_wall"][m] for m in ms], [math.sqrt(c_mmd / m) for m in ms], "^--",
              color="grey", label="particles, sqrt(C/m)")
    for m in ms:
        ax.annotate(f"m = {m}", (largest["particle_wall"][m], math.sqrt(c_mmd / m)),
                    textcoords="offset points", xytext=(4, -10), fontsize=6)
    ax.set_xlabel(f"wall time to t = {t_end:g} [s] (two ranks)")
    ax.set_ylabel(f"error in MMD at t = {t_end:g}")
    ax.set_title(problem["title"])
    ax.legend(fontsize=6)
    fig.tight_layout()
    figure = os.path.join(ROOT, "doc", "figures", problem["figure"])
    fig.savefig(figure, dpi=130)
    print(f"wrote {figure}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--problem", choices=sorted(PROBLEMS), default="deconvolution")
    parser.add_argument("--out", default=os.path.join(ROOT, "results", "adaptivity"))
    parser.add_argument("--only", nargs="*", default=None, help="run only these cases")
    parser.add_argument("--np", type=int, default=2)
    parser.add_argument("--time-pde", action="store_true",
                        help="re-measure each PDE's wall time alone (pde mode, idle machine) into "
                             "<problem>_walls.csv; the table then uses those")
    args = parser.parse_args()
    problem = PROBLEMS[args.problem]
    os.makedirs(args.out, exist_ok=True)
    results = {}
    for c in problem["cases"]:
        log = os.path.join(args.out, problem["prefix"] + c["name"] + ".log")
        if args.only is not None and c["name"] not in args.only and not os.path.exists(log):
            continue
        directory, text = run_study(args.binary, args.out, problem, c, args.np)
        results[c["name"]] = parse(directory, text)
        r = results[c["name"]]
        print(f"  {c['name']}: {r['cells']} cells at the end, {r['steps']} steps, "
              f"{r['wall']:.1f} s, E_h(MMD, t = {problem['times'][-1]:g}) = "
              f"{r['by_time'][problem['times'][-1]]['mmd']['E_h']:.4f}", flush=True)
    walls_path = os.path.join(args.out, problem["prefix"] + "walls.csv")
    if args.time_pde:
        with open(walls_path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["case", "pde_wall_s"])
            for c in problem["cases"]:
                if c["name"] in results:
                    wall = time_pde(args.binary, args.out, problem, c, args.np)
                    print(f"  {c['name']}: the PDE alone {wall:.1f} s", flush=True)
                    writer.writerow([c["name"], wall])
    if os.path.exists(walls_path):  # the clean timings replace those of the studies
        with open(walls_path) as f:
            for row in csv.DictReader(f):
                if row["case"] in results:
                    results[row["case"]]["wall"] = float(row["pde_wall_s"])
    print_table(problem, results)
    write_csv(problem, results, args.out)
    plot(problem, results)


if __name__ == "__main__":
    main()
