#!/usr/bin/python3
"""Work-precision at the last recorded time of a study: the PDE against the particles.

For a study's output directory (Run mode = study, e.g. results/study_langevin_relu_network):

* the particles' error at m is sqrt(C/m) (C: the fitted particle constant of study_decomposition,
  MMD row, last time), so reaching an MMD error eps needs m = C / eps^2 particles; their wall time
  is measured here by `Run mode = particles` runs of that study's parameters at --particles m values
  (to the same time), and taken as linear in m beyond (the kernel costs O(m n) a step);
* the PDE's error on 2^r times coarser meshes is estimated by refinement, as the study does: its
  distance d1 to the mesh refined once, over (1 - 2^-p) with p = Study/Assumed PDE order
  (`Run mode = study` with one particle run, for each --refinements r, with the study's own time
  stepping); its wall time is that of a `Run mode = pde` run to the same time (its time loop), with
  the --wall-set entries (e.g. large steps and a stationarity tolerance: at a stationary state
  the time stepping does not change the answer, only the cost).

Prints a table (eps, particles m and wall time, PDE mesh and wall time, ratio) and, with --output,
draws wall time against eps for both.

Usage: postprocess/work_precision.py build/meanfield <study directory> [--epsilon 0.01]
           [--refinements 1 2 3] [--particles 1000 10000] [--np 2] [--output figure.png]
           [--wall-set "Time stepping/Step tolerance=5" ...]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meanfield_table import read_table  # noqa: E402


def rows_of(path):
    names, rows = read_table(path)
    return [dict(zip(names, row)) for row in rows]


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{what} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def loop_wall(log):
    """The wall time of the run's time loop (TimerOutput's 'time loop ...' row)."""
    match = re.search(r"\| time loop[^|]*\|\s*\d+\s*\|\s*([0-9.e+-]+)s", log)
    if not match:
        sys.exit("no time loop row in the run's output")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("study")
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--refinements", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--particles", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--np", type=int, default=1, help="MPI ranks of every run")
    parser.add_argument("--wall-set", action="append", default=[], metavar="ENTRY=VALUE",
                        help="a --set for the timed PDE runs only, e.g. 'Time stepping/Step "
                        "tolerance=5' or 'Time stepping/Stationarity tolerance=1e-5': a "
                        "stationary state need not be reached with a study's small steps")
    parser.add_argument("--output")
    args = parser.parse_args()

    prm = os.path.join(args.study, "parameters.prm")
    decomposition = [r for r in rows_of(os.path.join(args.study, "study_decomposition"))
                     if r["metric"] == "MMD"]
    T = max(float(r["time"]) for r in decomposition)
    C = float([r for r in decomposition if float(r["time"]) == T][0]["C"])
    order = 1.0
    for line in open(prm):
        if line.strip().startswith("set Assumed PDE order"):
            order = float(line.split("=")[1].split("#")[0])
    launcher = (["mpirun", "-np", str(args.np)] if args.np > 1 else []) + [args.binary, prm]

    with tempfile.TemporaryDirectory() as tmp:
        common = ["--set", f"Time stepping/End time={T}", "--set", "Output/Write VTK=false"]
        pde = []  # (refinement, cells per direction, E_ref, wall)
        for r in args.refinements:
            mesh = ["--set", f"Mesh/Global refinements={r}"]
            timed = [item for entry in args.wall_set for item in ("--set", entry)]
            out = os.path.join(tmp, f"study{r}")
            run(launcher + common + mesh + [
                "--set", "Study/Particle numbers=100", "--set", "Study/Seeds=1",
                "--set", f"Study/Times={T}", "--set", "Study/Reference refinements=1",
                "--set", f"Output/Directory={out}"], f"study at refinement {r}")
            d1 = float([e for e in rows_of(os.path.join(out, "study_pde_error"))
                        if float(e["time"]) == T][0]["MMD"])
            log = run(launcher + common + mesh + [
                "--set", "Run mode=pde", "--set", "Time stepping/Stationarity tolerance=0"] + timed + [
                "--set", f"Output/Directory={os.path.join(tmp, f'pde{r}')}"], f"pde run {r}")
            cells = int(re.search(r"mesh: (\d+) cells", log).group(1))
            pde.append((r, round(cells ** 0.5), d1 / (1 - 2 ** -order), loop_wall(log)))
            print(f"  PDE {pde[-1][1]}^2: E_ref = {pde[-1][2]:.3g}, {pde[-1][3]:.3g} s",
                  file=sys.stderr)
        particles = []  # (m, wall)
        for m in args.particles:
            log = run(launcher + [
                "--set", "Run mode=particles", "--set", f"Particles/Number of particles={m}",
                "--set", f"Particles/End time={T}", "--set", "Output/Write VTK=false",
                "--set", "Particles/Statistics interval=1000",
                "--set", f"Output/Directory={os.path.join(tmp, f'particles{m}')}"],
                f"particle run m = {m}")
            particles.append((m, loop_wall(log)))
            print(f"  particles m = {m}: {particles[-1][1]:.3g} s", file=sys.stderr)

    per_particle = particles[-1][1] / particles[-1][0]  # the largest run: the O(m) regime
    print(f"study {args.study}, t = {T}: MMD^2 = C/m + E_h^2 with C = {C:.4g}; PDE order p = "
          f"{order}; {args.np} rank(s)\n")
    print("| mesh | PDE error E_ref | PDE wall s |")
    print("|---|---|---|")
    for r, n, e, w in pde:
        print(f"| {n}^2 | {e:.3g} | {w:.3g} |")
    print("\n| m | particle error sqrt(C/m) | particle wall s |")
    print("|---|---|---|")
    for m, w in particles:
        print(f"| {m} | {(C / m) ** 0.5:.3g} | {w:.3g} |")
    eps = args.epsilon
    m_eps = C / eps ** 2
    fits = [(w, n) for r, n, e, w in pde if e <= eps]
    print(f"\nat eps = {eps}: particles need m = C/eps^2 = {m_eps:.3g}, about "
          f"{m_eps * per_particle:.3g} s", end="")
    if fits:
        w, n = min(fits)
        print(f"; the PDE reaches it on {n}^2 in {w:.3g} s: {m_eps * per_particle / w:.1f}x cheaper")
    else:
        print("; no PDE mesh measured reaches it")

    if args.output:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.loglog([e for _, _, e, _ in pde], [w for *_, w in pde], "o-", label="PDE (meshes "
                  + ", ".join(f"{n}²" for _, n, _, _ in pde) + ")")
        grid = [eps * f for f in (0.5, 1, 2, 4, 8)]
        ax.loglog(grid, [C / g ** 2 * per_particle for g in grid], "s--",
                  label="particles, m = C/ε² (wall time linear in m)")
        ax.loglog([(C / m) ** 0.5 for m, _ in particles], [w for _, w in particles], "k^",
                  label="particle runs measured")
        ax.axvline(eps, color="grey", lw=0.8)
        ax.set_xlabel("MMD error ε at t = %g" % T)
        ax.set_ylabel("wall time [s]")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.output, dpi=150)
        print(f"figure: {args.output}")


if __name__ == "__main__":
    main()
