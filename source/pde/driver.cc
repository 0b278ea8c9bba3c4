#include <meanfield/base/exceptions.h>
#include <meanfield/io/pvd_record.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/pde/driver.h>
#include <meanfield/pde/pde_stepper.h>
#include <meanfield/time/time_loop.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <iomanip>
#include <limits>

namespace MeanField {
using namespace dealii;

namespace {
StatisticsTable pde_statistics_table(const PdeParameters &pde) {
  const bool implicit = pde.implicit(), langevin = pde.dynamics.noisy();
  const bool refined = pde.refinement.refined(), reactive = pde.dynamics.reactive();
  StatisticsTable table;
  table.add_column("step", "time step number n");
  table.add_column("time", "t_n");
  table.add_column("dt", "the step t_{n+1} - t_n taken from this state (0 on the last row)");
  table.add_column("F", "F(mu_h) = R-part + V-part (M2), mu_h = cell masses at the cell centres");
  table.add_column("R-part", "R(f_mu_h), the data term");
  table.add_column("V-part", "int V dmu_h, the regularizer term");
  table.add_column("mass", "int rho_h over the box (Dynamics/Mass = free: a dynamic quantity, "
                           "d/dt mass = -alpha int F' dmu_h, M15)");
  table.add_column("min density", "min over cells of the cell average rho_K");
  table.add_column("max density", "max over cells of the cell average rho_K");
  table.add_column("dissipation",
                   "sum over faces |K| u_f F_f, the dissipation of the fluxes (M6h): "
                   "-dF/dt of the semi-discrete scheme, 0 at a stationary state");
  table.add_column("outflow", "mass that left through outflow boundaries since t = 0");
  table.add_column("wall flux", "mass per unit time the no-flux walls stop: the outward flux the "
                                "flow would carry through them; not ~0 at a stationary state: the "
                                "box is too small");
  table.add_column("max speed", "max over the faces of the cells of |u_f| (zero on no-flux walls)");
  table.add_column("F - F*", "excess value F(mu_h) - F* when the optimum is known (the certified "
                             "BLASSO optimum for deconvolution; nan otherwise)");
  table.add_column("L1 error", "for exact solutions (E1, E2): int |rho_h - rho_exact|, at the "
                               "output times (nan elsewhere and for other problems)");
  table.add_column("residual", "sum_K |K| |d rho_K/dt| = ||L(rho_h)||_L1, the stationarity "
                               "residual (doc/theory.md (M9h)): 0 at a stationary state");
  if (refined) {
    table.add_column("cells", "active cells of the (locally refined) mesh");
    table.add_column("finest level", "levels of the finest cell above the mesh of Subdivisions "
                                     "and Global refinements (Mesh/Refinement)");
  }
  if (langevin) {
    table.add_column("entropy", "sum_K |K| rho_K log rho_K, the entropy term of (M12)");
    table.add_column("free energy", "F_tau = F + tau int rho log rho (M12), non-increasing along "
                                    "the Langevin flow; 'dissipation' is then -dF_tau/dt of the "
                                    "Scharfetter-Gummel fluxes (M13)");
    table.add_column("Gibbs residual", "||rho_h - exp(-F'(rho_h)/tau)/Z||_L1 at the cell centres: "
                                       "0 at the self-consistent Gibbs state (doc/theory.md §7)");
  }
  if (reactive) {
    table.add_column("reaction level", "c of the Fisher-Rao reaction -alpha rho (F' - c): "
                                       "int F' dmu_h / int dmu_h (M14) or 0 (M15)");
    table.add_column("reaction dissipation",
                     "alpha int (F' - c)^2 dmu_h, the reaction's part of -dF/dt (M16): "
                     "dF/dt = -(dissipation + reaction dissipation) along the flow");
  }
  if (implicit) {
    table.add_column("KSP iterations", "Krylov iterations of the linearly implicit step from "
                                       "this state (M10)");
    table.add_column("rejected", "implicit steps undone by the accuracy test (M10a) so far");
  }
  table.add_column("wall time", "seconds since the start of the time loop");
  return table;
}

// What Run mode = pde records: a statistics row per step, frames at the output times, and the
// L1 error against exact solutions there.
template <int dim>
class PdeRecorder : public TimeLoopObserver {
public:
  PdeRecorder(const FiniteVolumeSolver<dim> &solver, const RunParameters &run,
              const PdeParameters &pde, dealii::TimerOutput &timer, MPI_Comm comm)
      : solver(solver)
      , run(run)
      , implicit(pde.implicit())
      , langevin(pde.dynamics.noisy())
      , reactive(pde.dynamics.reactive())
      , timer(timer)
      , comm(comm)
      , refined(pde.refinement.refined())
      , table(pde_statistics_table(pde))
      , pvd(run.output_directory, "solution")
      , F_star(solver.problem().optimal_value())
      , wall(comm, true) {}

  void state(const Stepper &stepper, const bool output_due) override {
    // the row's state: the stepper may have prepared the next one when the step is reported
    pending = static_cast<const PdeStepper<dim> &>(stepper).diagnostics();
    pending_step = stepper.step_number();
    error = nan;
    written = output_due;
    if (output_due) {
      write_frame();
      error = solver.exact_l1_error().value_or(nan);
    }
  }
  void step(const Stepper &stepper, const double dt) override { add_row(stepper, dt); }
  void final_state(const Stepper &stepper) override {
    if (!written) {
      write_frame();
      error = solver.exact_l1_error().value_or(nan);
    }
    add_row(stepper, 0.0);
    final_error = error;
  }
  void flush() override { table.write(run.output_directory + "/statistics", comm); }

  double final_l1_error() const { return final_error; }

private:
  const FiniteVolumeSolver<dim> &solver;
  const RunParameters &run;
  const bool implicit, langevin, reactive;
  dealii::TimerOutput &timer;
  MPI_Comm comm;
  const bool refined;
  StatisticsTable table;
  PvdRecord pvd;
  const std::optional<double> F_star;
  dealii::Timer wall;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double error = nan, final_error = nan;
  bool written = false;
  typename FiniteVolumeSolver<dim>::Diagnostics pending;
  unsigned long pending_step = 0;

  void write_frame() {
    written = true;
    if (!run.write_vtk)
      return;
    dealii::TimerOutput::Scope scope(timer, "output");
    pvd.add(solver.time(), solver.write_vtu(run.output_directory, pvd.size()), comm);
  }
  void add_row(const Stepper &stepper, const double dt) {
    const auto &pde = static_cast<const PdeStepper<dim> &>(stepper);
    const auto &d = pending;
    std::vector<StatisticsTable::Value> row{static_cast<long long>(pending_step),
                                            d.time,
                                            dt,
                                            d.F,
                                            d.risk,
                                            d.potential,
                                            d.mass,
                                            d.min_density,
                                            d.max_density,
                                            d.dissipation,
                                            d.outflow,
                                            d.wall_flux,
                                            d.max_speed,
                                            F_star ? d.F - *F_star : nan,
                                            error,
                                            d.residual};
    if (refined) {
      row.push_back(static_cast<long long>(d.cells));
      row.push_back(static_cast<long long>(d.finest_level));
    }
    if (langevin)
      row.insert(row.end(), {d.entropy, d.free_energy, d.gibbs_residual});
    if (reactive)
      row.insert(row.end(), {d.reaction_level, d.reaction_dissipation});
    if (implicit) {
      row.push_back(static_cast<long long>(dt > 0 ? pde.last_linear_iterations() : 0));
      row.push_back(static_cast<long long>(pde.rejected_steps()));
    }
    row.push_back(wall.wall_time());
    table.add_row(row);
  }
};
// The run's last lines: the final state, the implicit steps and the time split, warnings.
template <int dim>
void print_summary(const FiniteVolumeSolver<dim> &solver, const PdeStepper<dim> &stepper,
                   const PdeParameters &pde, const StopReason reason, const double final_l1_error,
                   ConditionalOStream &pcout) {
  const auto &d = stepper.diagnostics();
  const std::optional<double> F_star = solver.problem().optimal_value();
  pcout << "\n  finished at step " << solver.step_number() << ", t = " << solver.time()
        << (reason == StopReason::stationary ? " (stationary: residual below tolerance)" : "")
        << "\n  F = " << d.F << " (R-part " << d.risk << ", V-part " << d.potential << "), mass "
        << d.mass << ", outflow " << d.outflow << ", min density " << d.min_density << ", residual "
        << d.residual << "\n";
  if (pde.dynamics.noisy())
    pcout << "  free energy F + tau int rho log rho = " << d.free_energy
          << ", Gibbs residual ||rho - exp(-F'/tau)/Z||_L1 = " << d.gibbs_residual << "\n";
  const bool implicit = pde.implicit(), newton = pde.scheme == TimeScheme::backward_euler;
  if (implicit)
    pcout << "  implicit steps: " << solver.step_number() << " accepted, "
          << stepper.rejected_steps() << " rejected, " << std::setprecision(3)
          << double(stepper.total_linear_iterations()) /
                 std::max(1.0, double(solver.step_number() + stepper.rejected_steps()))
          << " KSP iterations per step" << (newton ? " (all its Newton iterations)" : "") << "\n"
          << std::setprecision(6);
  {
    const auto &t = solver.step_timings();
    pcout << "  time split (rank 0): kernel and operator " << std::setprecision(3) << t.kernel
          << " s, "
          << (implicit ? "assembly " + std::to_string(t.assembly) + " s, " +
                             (newton ? "Newton-Krylov solve (with the F' evaluations of its "
                                       "Jacobian products) "
                                     : "KSP solve ") +
                             std::to_string(t.solve) + " s"
                       : "further stages " + std::to_string(t.stages) + " s")
          << "\n"
          << std::setprecision(6);
  }
  // Measured on pde_sparse_deconvolution.prm: with r in [-2, 2] the flux stays at 2.7 (32^2) and
  // 5.4 (64^2), F 57-59% above F*; with r in [-3, 3] it falls (0.23 at t = 3 on 32^2, 0.12 at t = 4
  // and 0.028 at t = 20 on 64^2) and F reaches F* up to the discretization error.
  if (d.wall_flux > d.mass)
    pcout << "  Warning: the no-flux walls stop an outward flux of " << std::setprecision(3)
          << d.wall_flux << " (mass per unit time, column 'wall flux'): the flow pushes mass out "
          << "of the box, and the state reached is the box's, not the problem's. Enlarge the box "
             "(the problem's box entry, or Mesh/Lower and Upper bounds).\n"
          << std::setprecision(6);
  if (F_star && *F_star != 0.0)
    pcout << "  F - F* = " << d.F - *F_star << " (" << std::setprecision(3)
          << 100 * (d.F - *F_star) / std::abs(*F_star) << "% of F* = " << std::setprecision(6)
          << *F_star << ")\n";
  else if (F_star)
    pcout << "  F - F* = " << d.F - *F_star << " (F* = 0)\n";
  if (!std::isnan(final_l1_error))
    pcout << "  L1 error against the exact solution: " << final_l1_error << "\n";
}
} // namespace

template <int dim>
void run_pde(FiniteVolumeSolver<dim> &solver, const RunParameters &run, const PdeParameters &pde,
             MPI_Comm comm, ConditionalOStream &pcout) {
  // rank 0's own wall times: no communication in the timers, so that a run stopped by an
  // exception (an interrupt, a blow-up) still prints its summary without a collective call
  TimerOutput timer(MPI_COMM_SELF, pcout, TimerOutput::summary, TimerOutput::wall_times);
  const bool implicit = pde.implicit();
  pcout << "  mesh: " << solver.n_cells() << " cells, h = " << solver.min_cell_size() << ", "
        << to_string(pde.reconstruction) << " reconstruction, " << to_string(pde.face_velocity)
        << " face velocity, "
        << (implicit ? std::string(pde.scheme == TimeScheme::backward_euler
                                       ? "backward Euler steps ("
                                       : "linearly implicit steps (") +
                           solver.linear_solver_description() + ", step tolerance " +
                           std::to_string(pde.step_tolerance) + ")"
                     : to_string(pde.integrator) + ", CFL " + std::to_string(pde.cfl))
        << (pde.dynamics.noisy() ? ", mean-field Langevin with Scharfetter-Gummel fluxes, tau = " +
                                       std::to_string(pde.dynamics.temperature)
                                 : std::string())
        << (pde.dynamics.reactive()
                ? ", Wasserstein-Fisher-Rao (" + to_string(pde.dynamics.mass) +
                      " mass), alpha = " + std::to_string(pde.dynamics.fisher_rao_rate) +
                      ", the exact reaction after each transport step"
                : std::string())
        << "\n\n";

  PdeStepper<dim> stepper(solver, pde);
  PdeRecorder<dim> recorder(solver, run, pde, timer, comm);
  TimeLoopSettings settings;
  settings.end_time = pde.end_time;
  settings.output_interval = run.output_interval;
  settings.output_steps = run.output_steps;
  settings.max_steps = pde.max_steps;
  settings.stationarity_tolerance = pde.stationarity_tolerance;
  StopReason reason;
  {
    TimerOutput::Scope scope(timer, "time loop (kernel, operator, solver)");
    reason = TimeLoop(settings, comm, pcout).run(stepper, recorder);
  }
  print_summary(solver, stepper, pde, reason, recorder.final_l1_error(), pcout);
}

template void run_pde<1>(FiniteVolumeSolver<1> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
template void run_pde<2>(FiniteVolumeSolver<2> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
template void run_pde<3>(FiniteVolumeSolver<3> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
} // namespace MeanField
