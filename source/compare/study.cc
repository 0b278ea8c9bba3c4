#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/compare/decomposition.h>
#include <meanfield/compare/study.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_stepper.h>
#include <meanfield/pde/pde_stepper.h>
#include <meanfield/time/record_at_times.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

namespace MeanField {
template <int dim>
std::vector<PdeSnapshot> pde_snapshots(FiniteVolumeSolver<dim> &solver, const PdeParameters &pde,
                                       const std::vector<double> &times) {
  std::vector<PdeSnapshot> snapshots;
  PdeStepper<dim> stepper(solver, pde);
  std::size_t k = 0;
  run_through_times(
      stepper, times,
      [&](const Stepper &) {
        snapshots.push_back({times[k++], solver.cloud(), solver.state(), solver.min_cell_size()});
      },
      solver.communicator());
  return snapshots;
}

namespace {
// The `study` table: one row per run and recorded time.
StatisticsTable study_table(const std::vector<StudyRecord> &records, const unsigned int dim) {
  StatisticsTable table;
  table.add_column("initialization", "Particles/Initialization of the run");
  table.add_column("m", "number of particles");
  table.add_column("seed", "Particles/Seed of the run");
  table.add_column("time", "recorded time");
  add_metric_columns(table, dim, "mu_m", "mu_h");
  for (const StudyRecord &r : records) {
    std::vector<StatisticsTable::Value> row{to_string(r.initialization),
                                            static_cast<long long>(r.m),
                                            static_cast<long long>(r.seed), r.time};
    for (const StatisticsTable::Value &v : metric_values(r.metrics))
      row.push_back(v);
    table.add_row(row);
  }
  return table;
}
} // namespace

template <int dim>
void study_particles(const Problem &problem, const InitialDensity<dim> &mu0,
                     const PdeParameters &pde, const ParticleParameters &particles,
                     const ComparisonParameters &comparison, const StudyParameters &study,
                     const std::vector<PdeSnapshot> &snapshots, MPI_Comm comm,
                     dealii::ConditionalOStream &pcout, std::vector<StudyRecord> &records) {
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm);
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  dealii::Timer wall(comm, true);
  for (const ParticleInitialization initialization : study.initializations) {
    // samples that do not depend on the seed: one run per m (unless SGD draws batches, the
    // noise is random or birth-death particles jump)
    using Init = ParticleInitialization;
    const bool random_jumps = particles.dynamics.reactive() &&
                              particles.fisher_rao_scheme == FisherRaoScheme::birth_death;
    const bool deterministic =
        particles.integrator != ParticleIntegrator::sgd && !particles.dynamics.noisy() &&
        !random_jumps &&
        (initialization == Init::quasi_random || initialization == Init::quantiles ||
         initialization == Init::evenly_spaced);
    for (const unsigned int m : study.particle_numbers)
      for (unsigned int s = 0; s < (deterministic ? 1 : study.n_seeds); ++s) {
        ParticleParameters p = particles;
        p.initialization = initialization;
        p.n_particles = m;
        p.seed = particles.seed + s;
        const auto [first, end] = ParticleSystem::local_range(m, rank, n_ranks);
        ParticleSystem system(problem, p, comm);
        if (p.dynamics.noisy())
          system.set_walls(pde.walls(problem));
        system.set_positions(initial_particles<dim>(problem, p, mu0, pde, first, end - first),
                             first);
        std::vector<double> times;
        for (const PdeSnapshot &snapshot : snapshots)
          times.push_back(snapshot.time);
        ParticleStepper stepper(system, p);
        std::size_t k = 0;
        try {
          run_through_times(
              stepper, times,
              [&](const Stepper &) {
                const PdeSnapshot &snapshot = snapshots[k++];
                records.push_back(
                    {initialization, m, p.seed, snapshot.time,
                     compare_measures(system.cloud(), system.kernel_state(), snapshot.cloud,
                                      snapshot.state, snapshot.cell_width, problem.objective(),
                                      comparison, comm)});
              },
              comm);
        } catch (const RunError &error) {
          throw RunError("Study, the particle run with m = " + std::to_string(m) + ": " +
                         error.what());
        }
        pcout << "  " << std::setw(14) << to_string(initialization) << "  m = " << std::setw(7) << m
              << "  seed " << p.seed << "  MMD at t = " << snapshots.back().time << ": "
              << std::setprecision(4) << records.back().metrics.mmd << "   ("
              << std::setprecision(3) << wall.wall_time() << " s)" << std::endl;
      }
  }
}

namespace {
const EnumName<StudyMetric> metric_names[] = {
    {StudyMetric::energy_gap, "energy gap"},
    {StudyMetric::prediction_distance, "prediction distance"},
    {StudyMetric::mmd, "MMD"},
    {StudyMetric::wasserstein, "Wasserstein"}};
} // namespace

std::string to_string(const StudyMetric metric) {
  return enum_name(metric_names, metric);
}

double metric_value(const ComparisonMetrics &metrics, const StudyMetric metric) {
  switch (metric) {
  case StudyMetric::energy_gap:
    return metrics.energy_gap;
  case StudyMetric::prediction_distance:
    return metrics.prediction_distance;
  case StudyMetric::mmd:
    return metrics.mmd;
  case StudyMetric::wasserstein:
    return metrics.wasserstein;
  }
  throw std::logic_error("a study metric without a value");
}

namespace {
// Least-squares slope of y against x.
double slope_of(const std::vector<double> &x, const std::vector<double> &y) {
  const double n = x.size();
  double mx = 0.0, my = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxx > 0 ? sxy / sxx : std::numeric_limits<double>::quiet_NaN();
}
} // namespace

std::vector<SlopeFit> fit_slopes(const std::vector<StudyRecord> &records, const ErrorFloor &floor) {
  std::vector<SlopeFit> fits;
  // (initialization, time) → m → values per seed, in record order; the initializations in the
  // order of their names (that of the study_slopes table)
  using Key = std::pair<ParticleInitialization, double>;
  const auto by_name = [](const Key &a, const Key &b) {
    return std::make_pair(to_string(a.first), a.second) <
           std::make_pair(to_string(b.first), b.second);
  };
  std::map<Key, std::map<unsigned int, std::vector<const StudyRecord *>>, decltype(by_name)> groups(
      by_name);
  for (const StudyRecord &r : records)
    groups[{r.initialization, r.time}][r.m].push_back(&r);
  for (const auto &[key, by_m] : groups)
    for (const StudyMetric metric : study_metrics) {
      double limit = 0.0;
      if (const auto t = floor.find(key.second); t != floor.end())
        if (const auto f = t->second.find(metric); f != t->second.end())
          limit = 3.0 * f->second;
      std::vector<double> log_m, log_mean;
      std::vector<unsigned int> fitted;
      std::size_t n_seeds = by_m.begin()->second.size();
      for (const auto &[m, runs] : by_m) {
        double mean = 0.0;
        for (const StudyRecord *r : runs)
          mean += metric_value(r->metrics, metric) / runs.size();
        if (mean <= limit)
          continue;
        fitted.push_back(m);
        log_m.push_back(std::log(m));
        log_mean.push_back(std::log(std::max(mean, 1e-300)));
        n_seeds = std::min(n_seeds, runs.size());
      }
      // per-seed slopes for the spread
      std::vector<double> slopes;
      for (std::size_t s = 0; s < n_seeds && fitted.size() > 1; ++s) {
        std::vector<double> y;
        for (const unsigned int m : fitted)
          y.push_back(std::log(std::max(metric_value(by_m.at(m)[s]->metrics, metric), 1e-300)));
        slopes.push_back(slope_of(log_m, y));
      }
      double mean_slope = 0.0, spread = 0.0;
      for (const double s : slopes)
        mean_slope += s / slopes.size();
      for (const double s : slopes)
        spread += (s - mean_slope) * (s - mean_slope) / std::max<std::size_t>(1, slopes.size() - 1);
      // a metric that vanishes identically (no data: no prediction distance) has no slope
      // (and one with fewer than two values of m above the floor)
      const bool vanishes = fitted.size() < 2 ||
                            *std::max_element(log_mean.begin(), log_mean.end()) <= std::log(1e-300);
      const double nan = std::numeric_limits<double>::quiet_NaN();
      fits.push_back({key.first, key.second, metric, vanishes ? nan : slope_of(log_m, log_mean),
                      vanishes ? nan : std::sqrt(spread),
                      static_cast<unsigned int>(fitted.size())});
    }
  return fits;
}

namespace {
// The PDE's own error: the same PDE on a mesh refined Study/Reference refinements more times,
// compared with @p snapshots like a particle measure; the `study_pde_error` table. Collective.
template <int dim>
ErrorFloor reference_errors(const Problem &problem, const InitialDensity<dim> &mu0,
                            const RunParameters &run, const PdeParameters &pde,
                            const ComparisonParameters &comparison, const StudyParameters &study,
                            const std::vector<PdeSnapshot> &snapshots, MPI_Comm comm,
                            dealii::ConditionalOStream &pcout) {
  StatisticsTable pde_error;
  pde_error.add_column("time", "recorded time");
  pde_error.add_column("cells", "cells of the reference mesh");
  add_metric_columns(pde_error, dim, "mu_h", "mu_ref"); // mu_ref: Study/Reference refinements
  ErrorFloor floor;
  if (study.reference_refinements > 0) {
    PdeParameters fine = pde;
    fine.refinements += study.reference_refinements;
    FiniteVolumeSolver<dim> reference(problem, fine, comm);
    reference.set_initial_density([&](const dealii::Point<dim> &p) { return mu0.value(p); });
    std::vector<double> times;
    for (const PdeSnapshot &snapshot : snapshots)
      times.push_back(snapshot.time);
    dealii::Timer wall(comm, true);
    const std::vector<PdeSnapshot> references = pde_snapshots(reference, fine, times);
    pcout << "  reference PDE: " << reference.n_cells() << " cells at t = " << times.back() << ", "
          << reference.step_number() << " steps (" << wall.wall_time() << " s)\n";
    for (std::size_t k = 0; k < times.size(); ++k) {
      const ComparisonMetrics e = compare_measures(
          references[k].cloud, references[k].state, snapshots[k].cloud, snapshots[k].state,
          snapshots[k].cell_width, problem.objective(), comparison, comm);
      std::vector<StatisticsTable::Value> row{times[k],
                                              static_cast<long long>(reference.n_cells())};
      for (const StatisticsTable::Value &v : metric_values(e))
        row.push_back(v);
      pde_error.add_row(row);
      for (const StudyMetric metric : study_metrics)
        floor[times[k]][metric] = metric_value(e, metric);
      pcout << "    t = " << times[k] << ": energy gap " << e.energy_gap << ", MMD " << e.mmd
            << ", " << (dim == 1 ? "W1 " : "sliced W2 ") << e.wasserstein
            << "  (the floor of the particle errors)\n";
    }
  }
  pde_error.write(run.output_directory + "/study_pde_error", comm);
  return floor;
}

// The `study_slopes` table (M11f) and its summary on @p pcout.
StatisticsTable slopes_table(const std::vector<StudyRecord> &records, const ErrorFloor &floor,
                             dealii::ConditionalOStream &pcout) {
  StatisticsTable slopes;
  slopes.add_column("initialization", "Particles/Initialization");
  slopes.add_column("time", "recorded time");
  slopes.add_column("metric", "energy gap | prediction distance | MMD | Wasserstein");
  slopes.add_column("slope", "least-squares slope of log(mean over seeds) against log m");
  slopes.add_column("spread", "standard deviation of the per-seed slopes");
  slopes.add_column("fitted", "values of m used: those whose mean distance exceeds 3 x the PDE's "
                              "own error (study_pde_error)");
  pcout << "\n  log-log slopes against m (i.i.d. sampling: -1/2):\n";
  for (const SlopeFit &f : fit_slopes(records, floor)) {
    slopes.add_row({to_string(f.initialization), f.time, to_string(f.metric), f.slope, f.spread,
                    static_cast<long long>(f.n_fitted)});
    pcout << "    " << std::setw(14) << to_string(f.initialization) << "  t = " << std::setw(6)
          << f.time << "  " << std::setw(20) << to_string(f.metric) << "  " << std::setprecision(3)
          << std::setw(7) << f.slope << " +- " << f.spread << "  (" << f.n_fitted
          << " values of m above 3 x "
          << "the PDE's error)\n";
  }
  return slopes;
}
} // namespace

template <int dim>
void run_study(const Problem &problem, const InitialDensity<dim> &mu0, const RunParameters &run,
               const PdeParameters &pde, const ParticleParameters &particles,
               const ComparisonParameters &comparison, const StudyParameters &study, MPI_Comm comm,
               dealii::ConditionalOStream &pcout) {
  const std::vector<double> times =
      study.times.empty() ? std::vector<double>{pde.end_time} : study.times;
  dealii::Timer wall(comm, true);

  FiniteVolumeSolver<dim> solver(problem, pde, comm);
  solver.set_initial_density([&](const dealii::Point<dim> &p) { return mu0.value(p); });
  pcout << "  PDE on " << solver.n_cells() << " cells to t = " << times.back() << " ..."
        << std::flush;
  const std::vector<PdeSnapshot> snapshots = pde_snapshots(solver, pde, times);
  pcout << " " << solver.step_number() << " steps (" << wall.wall_time() << " s), "
        << solver.n_cells() << " cells at the end\n";
  const ErrorFloor floor =
      reference_errors(problem, mu0, run, pde, comparison, study, snapshots, comm, pcout);

  pcout << "\n";
  std::vector<StudyRecord> records;
  try {
    study_particles(problem, mu0, pde, particles, comparison, study, snapshots, comm, pcout,
                    records);
  } catch (const Interrupted &) {
    study_table(records, dim).write(run.output_directory + "/study", comm); // the runs done
    throw;
  }
  const StatisticsTable table = study_table(records, dim);
  const StatisticsTable slopes = slopes_table(records, floor, pcout);
  const std::vector<Decomposition> decompositions = decompose_errors(records, floor, study);
  print_decompositions(decompositions, pcout);
  table.write(run.output_directory + "/study", comm);
  slopes.write(run.output_directory + "/study_slopes", comm);
  decomposition_table(decompositions).write(run.output_directory + "/study_decomposition", comm);
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template std::vector<PdeSnapshot> pde_snapshots<dim>(                                            \
      FiniteVolumeSolver<dim> &, const PdeParameters &, const std::vector<double> &);              \
  template void study_particles<dim>(const Problem &, const InitialDensity<dim> &,                 \
                                     const PdeParameters &, const ParticleParameters &,            \
                                     const ComparisonParameters &, const StudyParameters &,        \
                                     const std::vector<PdeSnapshot> &, MPI_Comm,                   \
                                     dealii::ConditionalOStream &, std::vector<StudyRecord> &);    \
  template void run_study<dim>(const Problem &, const InitialDensity<dim> &,                       \
                               const RunParameters &, const PdeParameters &,                       \
                               const ParticleParameters &, const ComparisonParameters &,           \
                               const StudyParameters &, MPI_Comm, dealii::ConditionalOStream &);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
