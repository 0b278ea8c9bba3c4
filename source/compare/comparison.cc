#include <meanfield/base/exceptions.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/compare/comparison_stepper.h>
#include <meanfield/compare/metrics.h>
#include <meanfield/io/particle_output.h>
#include <meanfield/io/pvd_record.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/driver.h>
#include <meanfield/time/time_loop.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>

namespace MeanField {
using dealii::Patterns::Double;
using dealii::Patterns::Integer;

void ComparisonParameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Comparison");
  prm.declare_entry(
      "MMD bandwidth", "0.1", Double(1e-300),
      "sigma of the Gaussian kernel exp(-|theta - theta'|^2 / (2 sigma^2)) of the MMD.");
  prm.declare_entry(
      "MMD features", "2000", Integer(1),
      "D: random Fourier features of the MMD estimate (cost O((m + cells) D); the "
      "standard deviation of MMD^2 is at most 2 / sqrt(D): each of the D terms lies in [0, 4]).");
  prm.declare_entry("Sliced directions", "50", Integer(1),
                    "K: random directions of the sliced W2 distance (d = 2, 3).");
  prm.declare_entry("Seed", "1", Integer(0),
                    "Seed of the MMD frequencies and of the slicing directions.");
  prm.leave_subsection();
}

void ComparisonParameters::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Comparison");
  mmd_bandwidth = prm.get_double("MMD bandwidth");
  mmd_features = prm.get_integer("MMD features");
  sliced_directions = prm.get_integer("Sliced directions");
  seed = prm.get_integer("Seed");
  prm.leave_subsection();
}

void add_metric_columns(StatisticsTable &table, const unsigned int dim, const std::string &mu,
                        const std::string &nu) {
  const std::string pair = "(" + mu + ", " + nu + ")";
  table.add_column("energy gap", "|F(" + mu + ") - F(" + nu + ")|");
  table.add_column("prediction distance",
                   "||f_" + mu + " - f_" + nu + "|| in L2(rho) over the data");
  table.add_column("MMD", "Gaussian MMD" + pair +
                              " of bandwidth Comparison/MMD bandwidth, by "
                              "Comparison/MMD features random Fourier features");
  table.add_column(dim == 1 ? "W1" : "sliced W2",
                   (dim == 1
                        ? "W1" + pair + " on the line, exact (cells uniform)"
                        : "sliced W2" + pair + " over Comparison/Sliced directions directions") +
                       "; of the measures normalised to mass 1 if their masses differ");
  table.add_column("mass difference", "|" + mu + "(Theta) - " + nu +
                                          "(Theta)|: nonzero for the unbalanced flow "
                                          "(Dynamics/Mass = free, M15)");
}

std::vector<StatisticsTable::Value> metric_values(const ComparisonMetrics &m) {
  return {m.energy_gap, m.prediction_distance, m.mmd, m.wasserstein, m.mass_difference};
}

ComparisonMetrics compare_measures(const WeightedCloud &particle_cloud,
                                   const Objective::State &particle_state,
                                   const WeightedCloud &mesh_cloud,
                                   const Objective::State &mesh_state, const double cell_width,
                                   const Objective &objective,
                                   const ComparisonParameters &parameters, MPI_Comm comm) {
  ComparisonMetrics metrics;
  metrics.energy_gap = std::abs(particle_state.value() - mesh_state.value());
  metrics.prediction_distance = prediction_distance(particle_state, mesh_state, objective.data());
  metrics.mmd = mmd_random_features(particle_cloud, mesh_cloud, parameters.mmd_bandwidth,
                                    parameters.mmd_features, parameters.seed, comm);
  // the masses; transport distances compare the normalised measures when they differ (M15)
  double masses[2] = {particle_cloud.local_mass(), mesh_cloud.local_mass()};
  MPI_Allreduce(MPI_IN_PLACE, masses, 2, MPI_DOUBLE, MPI_SUM, comm);
  metrics.mass_difference = std::abs(masses[0] - masses[1]);
  const bool normalise = metrics.mass_difference > 1e-12 * std::max(masses[0], masses[1]);
  const auto normalised = [&](const WeightedCloud &cloud, const double mass) {
    WeightedCloud copy = cloud;
    for (double &w : copy.weights)
      w /= mass;
    return copy;
  };
  const WeightedCloud p = normalise ? normalised(particle_cloud, masses[0]) : WeightedCloud();
  const WeightedCloud h = normalise ? normalised(mesh_cloud, masses[1]) : WeightedCloud();
  const WeightedCloud &mu = normalise ? p : particle_cloud, &nu = normalise ? h : mesh_cloud;
  if (particle_cloud.dim() == 1) {
    // the finite-volume density is uniform on each cell
    const double half = 0.5 * cell_width;
    std::vector<LinePiece> cells;
    for (std::size_t j = 0; j < nu.size(); ++j)
      cells.push_back({nu.position(j)[0] - half, nu.position(j)[0] + half, nu.weights[j]});
    metrics.wasserstein = wasserstein1_line(dirac_pieces(mu), cells, comm);
  } else
    metrics.wasserstein =
        sliced_wasserstein2(mu, nu, parameters.sliced_directions, parameters.seed, comm);
  return metrics;
}

template <int dim>
ComparisonMetrics compare(const FiniteVolumeSolver<dim> &pde, const ParticleSystem &particles,
                          const Objective &objective, const ComparisonParameters &parameters,
                          MPI_Comm comm) {
  return compare_measures(particles.cloud(), particles.kernel_state(), pde.cloud(), pde.state(),
                          pde.min_cell_size(), objective, parameters, comm);
}

namespace {
// What Run mode = compare records at every output time (every state of its stepper): the
// metrics, one table row and line, and a frame of each system.
template <int dim>
class ComparisonRecorder : public TimeLoopObserver {
public:
  ComparisonRecorder(const FiniteVolumeSolver<dim> &pde, const ParticleSystem &particles,
                     const Problem &problem, const RunParameters &run,
                     const ComparisonParameters &parameters, dealii::TimerOutput &timer,
                     MPI_Comm comm, dealii::ConditionalOStream &pcout, StatisticsTable table)
      : pde(pde)
      , particles(particles)
      , problem(problem)
      , run(run)
      , parameters(parameters)
      , timer(timer)
      , comm(comm)
      , pcout(pcout)
      , table(std::move(table))
      , pde_pvd(run.output_directory, "solution")
      , particle_pvd(run.output_directory, "particles")
      , wall(comm, true) {}

  void state(const Stepper &stepper, bool) override {
    const double t = stepper.time();
    ComparisonMetrics m;
    {
      dealii::TimerOutput::Scope scope(timer, "metrics");
      m = compare(pde, particles, problem.objective(), parameters, comm);
    }
    write_frames(t);
    std::vector<StatisticsTable::Value> row{t, pde.state().value(),
                                            particles.kernel_state().value()};
    for (const StatisticsTable::Value &v : metric_values(m))
      row.push_back(v);
    row.insert(row.end(), {static_cast<long long>(pde.step_number()),
                           static_cast<long long>(particles.iteration()), wall.wall_time()});
    table.add_row(row);
    table.write(run.output_directory + "/comparison", comm);
    pcout << "  " << std::setw(10) << std::setprecision(4) << t << std::setprecision(6)
          << std::setw(14) << pde.state().value() << std::setw(14)
          << particles.kernel_state().value() << std::setw(14) << m.energy_gap << std::setw(14)
          << m.prediction_distance << std::setw(14) << m.mmd << std::setw(14) << m.wasserstein
          << "   (" << std::setprecision(3) << wall.wall_time() << " s)" << std::endl;
  }

private:
  const FiniteVolumeSolver<dim> &pde;
  const ParticleSystem &particles;
  const Problem &problem;
  const RunParameters &run;
  const ComparisonParameters &parameters;
  dealii::TimerOutput &timer;
  MPI_Comm comm;
  dealii::ConditionalOStream &pcout;
  StatisticsTable table;
  PvdRecord pde_pvd, particle_pvd;
  dealii::Timer wall;

  void write_frames(const double t) {
    if (!run.write_vtk)
      return;
    dealii::TimerOutput::Scope scope(timer, "output");
    const unsigned int index = pde_pvd.size();
    pde_pvd.add(t, pde.write_vtu(run.output_directory, index), comm);
    particle_pvd.add(t,
                     write_particles_vtu(run.output_directory, index, particles.cloud().points,
                                         particle_output_fields(particles, problem), comm),
                     comm);
  }
};
} // namespace

template <int dim>
void run_compare(FiniteVolumeSolver<dim> &pde, ParticleSystem &particles, const Problem &problem,
                 const RunParameters &run, const PdeParameters &pde_parameters,
                 const ParticleParameters &particle_parameters,
                 const ComparisonParameters &parameters, MPI_Comm comm,
                 dealii::ConditionalOStream &pcout) {
  using namespace dealii;
  // rank 0's own wall times: no communication in the timers, so that a run stopped by an
  // exception (an interrupt, a blow-up) still prints its summary without a collective call
  TimerOutput timer(MPI_COMM_SELF, pcout, TimerOutput::summary, TimerOutput::wall_times);
  StatisticsTable table;
  table.add_column("time", "the output time t");
  table.add_column("F pde", "F(mu_h), the finite-volume measure (cell masses at the centres)");
  table.add_column("F particles", "F(mu_m), mu_m = sum_i w_i delta_theta_i (w_i = 1/m unless the "
                                  "Fisher-Rao reaction moves them)");
  add_metric_columns(table, dim, "mu_m", "mu_h");
  table.add_column("pde steps", "finite-volume time steps so far");
  table.add_column("particle iterations", "particle steps so far");
  table.add_column("wall time", "seconds since the start of the time loop");

  const double T = pde_parameters.end_time;
  const double interval = run.output_interval > 0 ? run.output_interval : T;
  pcout << "  compare: PDE on " << pde.n_cells() << " cells ("
        << to_string(pde_parameters.reconstruction)
        << (pde_parameters.implicit() ? ", linearly implicit"
                                      : ", CFL " + std::to_string(pde_parameters.cfl))
        << ") against m = " << particle_parameters.n_particles << " particles ("
        << to_string(particle_parameters.initialization) << ", "
        << to_string(particle_parameters.integrator) << ", eta = " << particle_parameters.step
        << "), output every " << interval << " to T = " << T << "\n\n"
        << "  " << std::setw(10) << "t" << std::setw(14) << "F pde" << std::setw(14)
        << "F particles" << std::setw(14) << "energy gap" << std::setw(14) << "prediction"
        << std::setw(14) << "MMD" << std::setw(14) << (dim == 1 ? "W1" : "sliced W2") << "\n";

  PdeStepper<dim> pde_stepper(pde, pde_parameters);
  ParticleStepper particle_stepper(particles, particle_parameters);
  ComparisonStepper<dim> stepper(pde_stepper, particle_stepper);
  ComparisonRecorder<dim> recorder(pde, particles, problem, run, parameters, timer, comm, pcout,
                                   std::move(table));
  TimeLoopSettings settings;
  settings.end_time = T;
  settings.output_interval = interval;
  settings.progress = false; // the table's lines are the progress
  {
    TimerOutput::Scope scope(timer, "time loop (pde, particles, metrics)");
    TimeLoop(settings, comm, pcout).run(stepper, recorder);
  }
}

template ComparisonMetrics compare<1>(const FiniteVolumeSolver<1> &, const ParticleSystem &,
                                      const Objective &, const ComparisonParameters &, MPI_Comm);
template ComparisonMetrics compare<2>(const FiniteVolumeSolver<2> &, const ParticleSystem &,
                                      const Objective &, const ComparisonParameters &, MPI_Comm);
template ComparisonMetrics compare<3>(const FiniteVolumeSolver<3> &, const ParticleSystem &,
                                      const Objective &, const ComparisonParameters &, MPI_Comm);
template void run_compare<1>(FiniteVolumeSolver<1> &, ParticleSystem &, const Problem &,
                             const RunParameters &, const PdeParameters &,
                             const ParticleParameters &, const ComparisonParameters &, MPI_Comm,
                             dealii::ConditionalOStream &);
template void run_compare<2>(FiniteVolumeSolver<2> &, ParticleSystem &, const Problem &,
                             const RunParameters &, const PdeParameters &,
                             const ParticleParameters &, const ComparisonParameters &, MPI_Comm,
                             dealii::ConditionalOStream &);
template void run_compare<3>(FiniteVolumeSolver<3> &, ParticleSystem &, const Problem &,
                             const RunParameters &, const PdeParameters &,
                             const ParticleParameters &, const ComparisonParameters &, MPI_Comm,
                             dealii::ConditionalOStream &);
} // namespace MeanField
