#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/io/particle_output.h>
#include <meanfield/io/pvd_record.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/driver.h>
#include <meanfield/particles/particle_stepper.h>
#include <meanfield/time/time_loop.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

namespace MeanField {
using namespace dealii;

namespace {
StatisticsTable particle_statistics_table(const bool reactive) {
  StatisticsTable table;
  table.add_column("iteration", "step number n");
  table.add_column("time", "t_n = sum of the steps eta so far (mean-field time)");
  table.add_column("F", "F(mu_m) = R-part + V-part (M2), mu_m = sum_i w_i delta_theta_i (w_i = 1/m "
                        "without a reaction)");
  table.add_column("R-part", "R(f_mu_m), the data term (full data set, also for SGD)");
  table.add_column("V-part", "int V dmu_m, the regularizer term");
  table.add_column("F - F*", "excess value, when F* is known (nan otherwise)");
  table.add_column("dissipation", "int |grad F'|^2 dmu_m (M6)");
  table.add_column("mean speed", "(1/m) sum_i |grad F'(mu_m)(theta_i)|");
  table.add_column("max speed", "max_i |grad F'(mu_m)(theta_i)|");
  if (reactive) {
    table.add_column("mass", "sum_i w_i: 1 for Dynamics/Mass = preserved (M14), free (M15)");
    table.add_column("reaction level", "c: int F' dmu_m / int dmu_m (M14) or 0 (M15)");
    table.add_column("reaction dissipation", "alpha int (F' - c)^2 dmu_m (M16): dF/dt = "
                                             "-(dissipation + reaction dissipation)");
    table.add_column("min weight", "min_i w_i m: below 1 where the reaction removed mass");
    table.add_column("max weight", "max_i w_i m");
  }
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

namespace {
// What Run mode = particles records: a statistics row every Statistics interval steps and at
// output times, frames at the output times, and θ of every particle at multiples of the
// trajectory interval (gathered on rank 0).
class ParticleRecorder : public TimeLoopObserver {
public:
  ParticleRecorder(const ParticleSystem &system, const RunParameters &run,
                   const ParticleParameters &parameters, TimerOutput &timer, MPI_Comm comm)
      : system(system)
      , problem(system.problem())
      , run(run)
      , prm(parameters)
      , timer(timer)
      , comm(comm)
      , table(particle_statistics_table(parameters.dynamics.reactive()))
      , pvd(run.output_directory, "particles")
      , F_star(problem.optimal_value())
      , tolerance(1e-12 * std::max(1.0, parameters.end_time))
      , wall(comm, true) {
    if (prm.trajectory_interval > 0)
      set_up_trajectories();
  }

  void state(const Stepper &stepper, const bool output_due) override {
    const double t = stepper.time();
    if (prm.trajectory_interval > 0 && t >= next_trajectory - tolerance) {
      record_trajectories(t);
      while (next_trajectory <= t + tolerance)
        next_trajectory += prm.trajectory_interval;
    }
    written = output_due;
    if (output_due)
      write_frame(t);
    row_added = output_due || stepper.step_number() % prm.statistics_interval == 0;
    if (row_added)
      add_row(stepper);
  }
  void final_state(const Stepper &stepper) override {
    if (!written)
      write_frame(stepper.time());
    if (!row_added)
      add_row(stepper);
  }
  void flush() override {
    table.write(run.output_directory + "/statistics", comm);
    if (prm.trajectory_interval > 0)
      trajectories.write(run.output_directory + "/trajectories", comm);
  }

private:
  const ParticleSystem &system;
  const Problem &problem;
  const RunParameters &run;
  const ParticleParameters &prm;
  TimerOutput &timer;
  MPI_Comm comm;
  StatisticsTable table, trajectories;
  PvdRecord pvd;
  const std::optional<double> F_star;
  const double tolerance;
  Timer wall;
  double next_trajectory = 0.0;
  bool written = false, row_added = false;

  void write_frame(const double t) {
    if (!run.write_vtk)
      return;
    TimerOutput::Scope scope(timer, "output");
    pvd.add(t,
            write_particles_vtu(run.output_directory, pvd.size(), system.cloud().points,
                                particle_output_fields(system, problem), comm),
            comm); // listed once written
  }
  void add_row(const Stepper &stepper) {
    const auto &d = static_cast<const ParticleStepper &>(stepper).diagnostics();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<StatisticsTable::Value> row{static_cast<long long>(stepper.step_number()),
                                            d.time,
                                            d.F,
                                            d.risk,
                                            d.potential,
                                            F_star ? d.F - *F_star : nan,
                                            d.dissipation,
                                            d.mean_speed,
                                            d.max_speed};
    if (prm.dynamics.reactive()) {
      const std::vector<double> &w = system.cloud().weights;
      const auto [low, high] = std::minmax_element(w.begin(), w.end());
      const double m = prm.n_particles;
      row.insert(row.end(), {d.mass, d.reaction_level, d.reaction_dissipation,
                             Utilities::MPI::min(w.empty() ? HUGE_VAL : *low * m, comm),
                             Utilities::MPI::max(w.empty() ? -HUGE_VAL : *high * m, comm)});
    }
    row.push_back(wall.wall_time());
    table.add_row(row);
  }
  void set_up_trajectories();
  void record_trajectories(double t);
};

void ParticleRecorder::set_up_trajectories() {
  trajectories.add_column("iteration", "step number n");
  trajectories.add_column("t", "mean-field time");
  trajectories.add_column("id", "global particle index i");
  const unsigned int d = problem.dimension();
  const std::vector<std::string> names = problem.coordinate_names();
  auto name = [&](const unsigned int i) {
    return d <= 4 ? names[i] : "theta_" + std::to_string(i);
  };
  for (unsigned int i = 0; i < d; ++i)
    trajectories.add_column(name(i), "coordinate " + std::to_string(i + 1) + " of theta_i(t)");
  // the measure the paths should reach (for the pictures): θ*_j and its weight (the ground
  // truth is the same on every rank)
  const std::optional<WeightedCloud> truth = problem.ground_truth();
  if (!truth)
    return;
  StatisticsTable table_truth;
  for (unsigned int i = 0; i < d; ++i)
    table_truth.add_column(name(i), "coordinate " + std::to_string(i + 1) + " of theta*_j");
  table_truth.add_column("weight", "w_j of the ground-truth measure sum_j w_j delta_theta*_j");
  for (std::size_t j = 0; j < truth->size(); ++j) {
    std::vector<StatisticsTable::Value> row(d + 1);
    for (unsigned int i = 0; i < d; ++i)
      row[i] = truth->position(j)[i];
    row[d] = truth->weights[j];
    table_truth.add_row(row);
  }
  table_truth.write(run.output_directory + "/ground_truth", comm);
}

void ParticleRecorder::record_trajectories(const double t) {
  const unsigned int d = problem.dimension();
  const std::vector<double> all = gather_all(system.cloud().points.coordinates, comm);
  if (Utilities::MPI::this_mpi_process(comm) != 0)
    return;
  for (std::size_t j = 0; j < all.size() / d; ++j) {
    std::vector<StatisticsTable::Value> row(d + 3);
    row[0] = static_cast<long long>(system.iteration());
    row[1] = t;
    row[2] = static_cast<long long>(j);
    for (unsigned int i = 0; i < d; ++i)
      row[3 + i] = all[j * d + i];
    trajectories.add_row(row);
  }
}
} // namespace

void run_particles(ParticleSystem &system, const Problem &problem, const RunParameters &run,
                   const ParticleParameters &parameters, MPI_Comm comm, ConditionalOStream &pcout) {
  // rank 0's own wall times: no communication in the timers, so that a run stopped by an
  // exception (an interrupt, a blow-up) still prints its summary without a collective call
  TimerOutput timer(MPI_COMM_SELF, pcout, TimerOutput::summary, TimerOutput::wall_times);
  const bool backtracking = parameters.step_control == StepControl::backtracking;
  pcout << "  particles: m = " << parameters.n_particles << ", initialization "
        << to_string(parameters.initialization) << ", integrator "
        << to_string(parameters.integrator) << ", step eta = " << parameters.step
        << (backtracking ? " (first step; backtracking)" : "")
        << (parameters.integrator == ParticleIntegrator::sgd
                ? ", batch size " + std::to_string(parameters.batch_size)
                : std::string())
        << (parameters.dynamics.reactive()
                ? std::string(", Wasserstein-Fisher-Rao (") + to_string(parameters.dynamics.mass) +
                      " mass, alpha = " + std::to_string(parameters.dynamics.fisher_rao_rate) +
                      ", " +
                      (parameters.fisher_rao_scheme == FisherRaoScheme::weights
                           ? "weighted particles)"
                           : "birth-death particles)")
                : std::string())
        << "\n\n";

  ParticleStepper stepper(system, parameters);
  ParticleRecorder recorder(system, run, parameters, timer, comm);
  TimeLoopSettings settings;
  settings.end_time = parameters.end_time;
  settings.output_interval = run.output_interval;
  settings.output_steps = run.output_steps;
  settings.max_steps = parameters.max_iterations;
  settings.stationarity_tolerance = parameters.stationarity_tolerance;
  settings.step_name = "iteration";
  StopReason reason;
  {
    TimerOutput::Scope scope(timer, "time loop (kernel, integrator)");
    try {
      reason = TimeLoop(settings, comm, pcout).run(stepper, recorder);
    } catch (const RunError &error) { // (the loop flushed the tables)
      throw RunError(std::string(error.what()) + " The statistics up to here are written.");
    }
  }
  const auto &d = stepper.diagnostics();
  const std::optional<double> F_star = problem.optimal_value();
  pcout << "\n  finished at iteration " << system.iteration() << ", t = " << system.time()
        << (reason == StopReason::stationary ? " (stationary: residual below tolerance)" : "")
        << "\n  F = " << d.F << " (R-part " << d.risk << ", V-part " << d.potential << ")";
  if (F_star)
    pcout << ", F - F* = " << d.F - *F_star;
  pcout << ", dissipation " << d.dissipation << ", mean speed " << d.mean_speed;
  if (parameters.dynamics.reactive())
    pcout << ", mass " << d.mass << ", reaction dissipation " << d.reaction_dissipation;
  pcout << "\n";
}
} // namespace MeanField
