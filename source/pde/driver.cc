#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/io/pvd_record.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/blow_up.h>
#include <meanfield/pde/driver.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>

namespace MeanField {
using namespace dealii;

namespace {
StatisticsTable pde_statistics_table() {
  StatisticsTable table;
  table.add_column("step", "time step number n");
  table.add_column("time", "t_n");
  table.add_column("dt", "the step t_{n+1} - t_n taken from this state (0 on the last row)");
  table.add_column("F", "F(mu_h) = R-part + V-part (M2), mu_h = cell masses at the cell centres");
  table.add_column("R-part", "R(f_mu_h), the data term");
  table.add_column("V-part", "int V dmu_h, the regularizer term");
  table.add_column("mass", "int rho_h over the box");
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
  table.add_column("wall time", "seconds since the start of the time loop");
  return table;
}
} // namespace

template <int dim>
void run_pde(FiniteVolumeSolver<dim> &solver, const RunParameters &run, const PdeParameters &pde,
             MPI_Comm comm, ConditionalOStream &pcout) {
  // rank 0's own wall times: no communication in the timers, so that a run stopped by an
  // exception (an interrupt, a blow-up) still prints its summary without a collective call
  TimerOutput timer(MPI_COMM_SELF, pcout, TimerOutput::summary, TimerOutput::wall_times);
  const std::string directory = run.output_directory;
  StatisticsTable table = pde_statistics_table();
  PvdRecord pvd(directory, "solution");

  auto write_output = [&](const double t) {
    if (!run.write_vtk)
      return;
    TimerOutput::Scope scope(timer, "output");
    pvd.add(t, solver.write_vtu(directory, pvd.size()), comm); // listed once written
  };
  auto write_statistics = [&]() {
    table.write(directory + "/statistics", comm);
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::optional<double> F_star = solver.problem().optimal_value();
  auto add_row = [&](const typename FiniteVolumeSolver<dim>::Diagnostics &d, const double dt,
                     const double error, const double wall) {
    table.add_row({static_cast<long long>(solver.step_number()), d.time, dt, d.F, d.risk,
                   d.potential, d.mass, d.min_density, d.max_density, d.dissipation, d.outflow,
                   d.wall_flux, d.max_speed, F_star ? d.F - *F_star : nan, error, wall});
  };

  pcout << "  mesh: " << solver.n_cells() << " cells, h = " << solver.min_cell_size() << ", "
        << pde.reconstruction << " reconstruction, " << pde.face_velocity << " face velocity, "
        << pde.integrator << ", CFL " << pde.cfl << "\n\n";

  Timer wall(comm, true);
  double next_output = 0.0, last_progress = -1.0;
  const double interval = run.output_interval > 0 ? run.output_interval : pde.end_time;
  const double tolerance = 1e-12 * std::max(1.0, pde.end_time);
  typename FiniteVolumeSolver<dim>::Diagnostics d;
  bool stationary = false;
  double F0 = 0.0;
  double final_error = nan;
  while (true) {
    {
      TimerOutput::Scope scope(timer, "time step (kernel + operator)");
      d = solver.prepare_step();
    }
    if (solver.step_number() == 0)
      F0 = d.F;
    if (!std::isfinite(d.F)) {
      if (solver.step_number() == 0)
        throw RunError("F(mu0) is not finite: the initial state overflows. Check the problem's "
                       "scales (Loss scale, Regularization or Weight decay, weights, the box) and "
                       "Initial condition/Density.");
      write_statistics();
      throw RunError("At t = " + std::to_string(d.time) + ": " +
                     blow_up_message(solver.problem(), F0, d.F, solver.step_number(),
                                     "Time stepping/CFL number", pde.cfl, 0.0) +
                     " The statistics up to here are written.");
    }
    const double t = solver.time();
    const bool output_due = t >= next_output - tolerance ||
                            (run.output_steps > 0 && solver.step_number() % run.output_steps == 0);
    double error = nan;
    if (output_due) {
      write_output(t);
      error = solver.exact_l1_error().value_or(nan);
      while (next_output <= t + tolerance)
        next_output += interval;
    }
    stationary = pde.stationarity_tolerance > 0 && d.dissipation < pde.stationarity_tolerance;
    const bool done =
        t >= pde.end_time - tolerance || solver.step_number() >= pde.max_steps || stationary;
    if (done) {
      if (!output_due) {
        write_output(t);
        error = solver.exact_l1_error().value_or(nan);
      }
      add_row(d, 0.0, error, wall.wall_time());
      final_error = error;
      break;
    }
    if (const int signal = interrupt_signal(comm)) { // SIGINT, SIGTERM: stop between two steps
      add_row(d, 0.0, error, wall.wall_time());
      write_statistics();
      throw Interrupted::at(signal, solver.step_number(), t);
    }
    // Land exactly on the output times and on the end time.
    const double dt = std::min({d.stable_dt, next_output - t, pde.end_time - t});
    add_row(d, dt, error, wall.wall_time());
    try {
      TimerOutput::Scope scope(timer, "time step (kernel + operator)");
      solver.complete_step(dt);
    } catch (const RunError &) {
      write_output(t); // the last good state
      write_statistics();
      throw;
    }
    if (output_due)
      write_statistics();
    // A progress line about once a second.
    const double elapsed = wall.wall_time();
    if (elapsed - last_progress >= 1.0) {
      last_progress = elapsed;
      const double done_fraction = solver.time() / pde.end_time;
      pcout << "  step " << std::setw(7) << solver.step_number() << "  t = " << std::setw(10)
            << std::setprecision(4) << solver.time() << " / " << pde.end_time
            << "  F = " << std::setw(12) << std::setprecision(6) << d.F
            << "  dt = " << std::setw(10) << std::setprecision(3) << dt << "  elapsed "
            << std::setprecision(3) << elapsed << " s  ETA "
            << (done_fraction > 0 ? elapsed * (1 - done_fraction) / done_fraction : 0.0) << " s"
            << std::endl;
    }
  }
  write_statistics();
  pcout << "\n  finished at step " << solver.step_number() << ", t = " << solver.time()
        << (stationary ? " (stationary: dissipation below tolerance)" : "") << "\n  F = " << d.F
        << " (R-part " << d.risk << ", V-part " << d.potential << "), mass " << d.mass
        << ", outflow " << d.outflow << ", min density " << d.min_density << "\n";
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
  if (!std::isnan(final_error))
    pcout << "  L1 error against the exact solution: " << final_error << "\n";
}

template void run_pde<1>(FiniteVolumeSolver<1> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
template void run_pde<2>(FiniteVolumeSolver<2> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
template void run_pde<3>(FiniteVolumeSolver<3> &, const RunParameters &, const PdeParameters &,
                         MPI_Comm, ConditionalOStream &);
} // namespace MeanField
