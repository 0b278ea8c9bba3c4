#pragma once

#include <meanfield/base/enum_names.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/problems/initial_density.h>

#include <map>
#include <string>
#include <vector>

namespace MeanField {
/// The weights of the least-squares fit (M11h) of d² = C/m + E_h² over the runs: m² (d² − E_h²
/// has a standard deviation ∝ C/m; the runs of large m carry E_h) or uniform (ordinary least
/// squares, dominated by the noise of the smallest m).
enum class FitWeights { m_squared, uniform };
inline constexpr EnumName<FitWeights> fit_weight_names[] = {{FitWeights::m_squared, "m^2"},
                                                            {FitWeights::uniform, "uniform"}};

/// The `Study` subsection: particle-to-PDE convergence as m grows (doc/theory.md §2, §5).
struct StudyParameters {
  std::vector<unsigned int> particle_numbers; ///< m, increasing
  unsigned int n_seeds;
  std::vector<double> times; ///< where the metrics are recorded; empty: the End time
  std::vector<ParticleInitialization> initializations;
  unsigned int reference_refinements; ///< the PDE's error: against a mesh refined this often
  double assumed_pde_order; ///< p of the Richardson estimate (M11i) from that one reference
  FitWeights fit_weights;   ///< of the decomposition (M11h)

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);
  /// Lists non-empty and increasing, times in [0, End time], initializations fit the problem.
  void check_consistency(const Problem &problem, const PdeParameters &pde,
                         const ParticleParameters &particles) const;
};

/// The PDE measure at one time: the cell masses at the cell centres and its kernel state.
struct PdeSnapshot {
  double time;
  WeightedCloud cloud; ///< this rank's cells
  Objective::State state;
  double cell_width; ///< h (for W1 in d = 1)
};

/// One particle run of a study at one recorded time.
struct StudyRecord {
  ParticleInitialization initialization;
  unsigned int m, seed;
  double time;
  ComparisonMetrics metrics;
};

/// The four ComparisonMetrics a study fits slopes to, in table order; to_string() gives the name
/// of the `study_slopes` table ("energy gap", "prediction distance", "MMD", "Wasserstein").
enum class StudyMetric { energy_gap, prediction_distance, mmd, wasserstein };
constexpr StudyMetric study_metrics[] = {StudyMetric::energy_gap, StudyMetric::prediction_distance,
                                         StudyMetric::mmd, StudyMetric::wasserstein};
std::string to_string(StudyMetric metric);

/// A fitted log–log slope of one metric against m.
struct SlopeFit {
  ParticleInitialization initialization;
  double time;
  StudyMetric metric;
  double slope;  ///< least squares of log(mean over seeds) against log m
  double spread; ///< standard deviation of the per-seed slopes (0 for deterministic samples)
  unsigned int n_fitted; ///< values of m above the floor, used in the fit
};

/// Run the PDE (its Time stepping scheme) to every recorded time on the one TimeLoop.
/// Collective.
template <int dim>
std::vector<PdeSnapshot> pde_snapshots(FiniteVolumeSolver<dim> &solver, const PdeParameters &pde,
                                       const std::vector<double> &times);

/// Every (initialization, m, seed) particle run against the snapshots, appended to @p records as
/// each is done (what is done survives an Interrupted). Collective.
template <int dim>
void study_particles(const Problem &problem, const InitialDensity<dim> &mu0,
                     const PdeParameters &pde, const ParticleParameters &particles,
                     const ComparisonParameters &comparison, const StudyParameters &study,
                     const std::vector<PdeSnapshot> &snapshots, MPI_Comm comm,
                     dealii::ConditionalOStream &pcout, std::vector<StudyRecord> &records);

/// The value of @p metric in @p metrics.
double metric_value(const ComparisonMetrics &metrics, StudyMetric metric);

/// The PDE's own error per recorded time, per metric (the floor of the particle errors).
using ErrorFloor = std::map<double, std::map<StudyMetric, double>>;

/**
 * Log–log slopes of every metric against m, per initialization and time, over the values of m
 * whose mean metric lies above 3 × @p floor (the PDE's own error, if known): below it the
 * distance measures the PDE, not the particles.
 */
std::vector<SlopeFit> fit_slopes(const std::vector<StudyRecord> &records,
                                 const ErrorFloor &floor = {});

/**
 * `Run mode = study`: one PDE run (and a reference on a finer mesh for the PDE's own error), then
 * the particle runs; writes `study` (one row per run and time), `study_slopes`,
 * `study_pde_error` and `study_decomposition` (M11h). Collective.
 */
template <int dim>
void run_study(const Problem &problem, const InitialDensity<dim> &mu0, const RunParameters &run,
               const PdeParameters &pde, const ParticleParameters &particles,
               const ComparisonParameters &comparison, const StudyParameters &study, MPI_Comm comm,
               dealii::ConditionalOStream &pcout);
} // namespace MeanField
