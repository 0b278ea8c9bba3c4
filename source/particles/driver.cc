#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/base/parallel.h>
#include <meanfield/io/particle_output.h>
#include <meanfield/io/pvd_record.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/blow_up.h>
#include <meanfield/particles/driver.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

namespace MeanField {
using namespace dealii;

namespace {
StatisticsTable particle_statistics_table() {
  StatisticsTable table;
  table.add_column("iteration", "step number n");
  table.add_column("time", "t_n = sum of the steps eta so far (mean-field time)");
  table.add_column("F", "F(mu_m) = R-part + V-part (M2), mu_m = (1/m) sum_i delta_theta_i");
  table.add_column("R-part", "R(f_mu_m), the data term (full data set, also for SGD)");
  table.add_column("V-part", "int V dmu_m, the regularizer term");
  table.add_column("F - F*", "excess value, when F* is known (nan otherwise)");
  table.add_column("dissipation", "int |grad F'|^2 dmu_m (M6)");
  table.add_column("mean speed", "(1/m) sum_i |grad F'(mu_m)(theta_i)|");
  table.add_column("max speed", "max_i |grad F'(mu_m)(theta_i)|");
  table.add_column("wall time", "seconds since the start of the time loop");
  return table;
}

} // namespace

// Point data of the particle VTK files: weight, F', velocity −∇F', global id, and each
// coordinate by its name when d ≤ 4 (the signed weight r of deconvolution, say).
std::vector<ParticleField> particle_output_fields(const ParticleSystem &system,
                                                  const Problem &problem) {
  const WeightedCloud &cloud = system.cloud();
  const std::size_t n = cloud.size();
  const unsigned int d = cloud.dim();
  std::vector<ParticleField> fields;
  fields.push_back({"weight", 1, cloud.weights});
  fields.push_back({"first_variation", 1, system.first_variation()});
  // −∇F' as a vector in the space of the points: padded with zeros to 3 components for d ≤ 3
  // (the VTK points are 3D), so ParaView can draw it with glyphs
  const unsigned int components = d <= 3 ? 3 : d;
  ParticleField velocity{"velocity", components, std::vector<double>(n * components, 0.0)};
  for (std::size_t j = 0; j < n; ++j)
    for (unsigned int i = 0; i < d; ++i)
      velocity.values[j * components + i] = -system.gradients()[j * d + i];
  fields.push_back(std::move(velocity));
  ParticleField id{"id", 1, std::vector<double>(n)};
  for (std::size_t j = 0; j < n; ++j)
    id.values[j] = static_cast<double>(system.first_index() + j);
  fields.push_back(std::move(id));
  if (d <= 4) {
    const std::vector<std::string> names = problem.coordinate_names();
    for (unsigned int i = 0; i < d; ++i) {
      ParticleField coordinate{names[i], 1, std::vector<double>(n)};
      for (std::size_t j = 0; j < n; ++j)
        coordinate.values[j] = cloud.position(j)[i];
      fields.push_back(std::move(coordinate));
    }
  }
  return fields;
}

void run_particles(ParticleSystem &system, const Problem &problem, const RunParameters &run,
                   const ParticleParameters &parameters, MPI_Comm comm, ConditionalOStream &pcout) {
  // rank 0's own wall times: no communication in the timers, so that a run stopped by an
  // exception (an interrupt, a blow-up) still prints its summary without a collective call
  TimerOutput timer(MPI_COMM_SELF, pcout, TimerOutput::summary, TimerOutput::wall_times);
  const bool root = Utilities::MPI::this_mpi_process(comm) == 0;
  const std::string directory = run.output_directory;
  StatisticsTable table = particle_statistics_table();
  PvdRecord pvd(directory, "particles");
  const std::optional<double> F_star = problem.optimal_value();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  auto write_output = [&](const double t) {
    if (!run.write_vtk)
      return;
    TimerOutput::Scope scope(timer, "output");
    pvd.add(t,
            write_particles_vtu(directory, pvd.size(), system.cloud().points,
                                particle_output_fields(system, problem), comm),
            comm); // listed once written
  };
  // θ of every particle at (about) multiples of the trajectory interval, gathered on rank 0
  StatisticsTable trajectories;
  trajectories.add_column("iteration", "step number n");
  trajectories.add_column("t", "mean-field time");
  trajectories.add_column("id", "global particle index i");
  const std::vector<std::string> names = problem.coordinate_names();
  for (unsigned int i = 0; i < problem.dimension(); ++i)
    trajectories.add_column(problem.dimension() <= 4 ? names[i] : "theta_" + std::to_string(i),
                            "coordinate " + std::to_string(i + 1) + " of theta_i(t)");
  double next_trajectory = 0.0;
  if (parameters.trajectory_interval > 0) // (the ground truth is the same on every rank)
    if (const std::optional<WeightedCloud> truth = problem.ground_truth()) {
      // the measure the paths should reach (for the pictures): θ*_j and its weight
      StatisticsTable table_truth;
      for (unsigned int i = 0; i < problem.dimension(); ++i)
        table_truth.add_column(problem.dimension() <= 4 ? names[i] : "theta_" + std::to_string(i),
                               "coordinate " + std::to_string(i + 1) + " of theta*_j");
      table_truth.add_column("weight", "w_j of the ground-truth measure sum_j w_j delta_theta*_j");
      for (std::size_t j = 0; j < truth->size(); ++j) {
        std::vector<StatisticsTable::Value> row(problem.dimension() + 1);
        for (unsigned int i = 0; i < problem.dimension(); ++i)
          row[i] = truth->position(j)[i];
        row[problem.dimension()] = truth->weights[j];
        table_truth.add_row(row);
      }
      table_truth.write(directory + "/ground_truth", comm);
    }
  auto record_trajectories = [&](const double t) {
    const unsigned int d = problem.dimension();
    std::vector<double> local(system.cloud().points.coordinates);
    const std::vector<double> all = gather_all(local, comm);
    if (root)
      for (std::size_t j = 0; j < all.size() / d; ++j) {
        std::vector<StatisticsTable::Value> row(d + 3);
        row[0] = static_cast<long long>(system.iteration());
        row[1] = t;
        row[2] = static_cast<long long>(j);
        for (unsigned int i = 0; i < d; ++i)
          row[3 + i] = all[j * d + i];
        trajectories.add_row(row);
      }
  };
  auto write_statistics = [&]() {
    table.write(directory + "/statistics", comm);
    if (parameters.trajectory_interval > 0)
      trajectories.write(directory + "/trajectories", comm);
  };

  const bool backtracking = parameters.step_control == "backtracking";
  double eta = parameters.step;
  pcout << "  particles: m = " << parameters.n_particles << ", initialization "
        << parameters.initialization << ", integrator " << parameters.integrator
        << ", step eta = " << parameters.step << (backtracking ? " (first step; backtracking)" : "")
        << (parameters.integrator == "sgd" ? ", batch size " + std::to_string(parameters.batch_size)
                                           : std::string())
        << "\n\n";

  Timer wall(comm, true);
  double next_output = 0.0, last_progress = -1.0, F0 = 0.0, first_step = 0.0;
  const double T = parameters.end_time;
  const double interval = run.output_interval > 0 ? run.output_interval : T;
  const double tolerance = 1e-12 * std::max(1.0, T);
  ParticleSystem::Diagnostics d;
  bool stationary = false;
  while (true) {
    {
      TimerOutput::Scope scope(timer, "kernel (prepare step)");
      d = system.prepare_step();
    }
    const unsigned long n = system.iteration();
    if (n == 0) {
      F0 = d.F;
      first_step = parameters.step * d.max_speed;
    }
    // A blow-up: F not finite, or 100 times its initial value (F ≥ 0 for our problems).
    if (!std::isfinite(d.F) || (n > 0 && d.F > 100.0 * std::max(F0, 1e-300))) {
      if (n == 0)
        throw RunError("F(mu_m) is not finite at the initial particles. Check the problem's "
                       "scales (Loss scale, weights) and the Particles/Initialization.");
      write_statistics();
      throw RunError(
          blow_up_message(problem, F0, d.F, n, "Particles/Step", parameters.step, first_step) +
          " The statistics up to here are written.");
    }
    const double t = system.time();
    if (parameters.trajectory_interval > 0 && t >= next_trajectory - tolerance) {
      record_trajectories(t);
      while (next_trajectory <= t + tolerance)
        next_trajectory += parameters.trajectory_interval;
    }
    const bool output_due =
        t >= next_output - tolerance || (run.output_steps > 0 && n % run.output_steps == 0);
    if (output_due) {
      write_output(t);
      while (next_output <= t + tolerance)
        next_output += interval;
    }
    stationary =
        parameters.stationarity_tolerance > 0 && d.dissipation < parameters.stationarity_tolerance;
    const bool done = t >= T - tolerance || n >= parameters.max_iterations || stationary;
    const int signal = done ? 0 : interrupt_signal(comm); // SIGINT, SIGTERM: stop here
    if (output_due || done || signal || n % parameters.statistics_interval == 0)
      table.add_row({static_cast<long long>(n), d.time, d.F, d.risk, d.potential,
                     F_star ? d.F - *F_star : nan, d.dissipation, d.mean_speed, d.max_speed,
                     wall.wall_time()});
    if (signal) {
      write_statistics();
      throw Interrupted::at(signal, n, t);
    }
    if (done) {
      if (!output_due)
        write_output(t);
      break;
    }
    // Land exactly on the output times and on the end time.
    {
      // (with backtracking, the kernel evaluation at θ⁺ belongs to this step: the next
      // prepare_step() is free)
      TimerOutput::Scope scope(timer, "integrator (later stages, update)");
      system.advance(std::min(next_output - t, T - t), eta);
    }
    if (output_due)
      write_statistics();
    const double elapsed = wall.wall_time();
    if (elapsed - last_progress >= 1.0) {
      last_progress = elapsed;
      const double fraction = system.time() / T;
      pcout << "  iteration " << std::setw(8) << system.iteration() << "  t = " << std::setw(10)
            << std::setprecision(4) << system.time() << " / " << T << "  F = " << std::setw(12)
            << std::setprecision(6) << d.F << "  elapsed " << std::setprecision(3) << elapsed
            << " s  ETA " << (fraction > 0 ? elapsed * (1 - fraction) / fraction : 0.0) << " s"
            << std::endl;
    }
  }
  write_statistics();
  pcout << "\n  finished at iteration " << system.iteration() << ", t = " << system.time()
        << (stationary ? " (stationary: dissipation below tolerance)" : "") << "\n  F = " << d.F
        << " (R-part " << d.risk << ", V-part " << d.potential << ")";
  if (F_star)
    pcout << ", F - F* = " << d.F - *F_star;
  pcout << ", dissipation " << d.dissipation << "\n";
}
} // namespace MeanField
