#pragma once

#include <meanfield/app/parameters.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/parameter_handler.h>

#include <cstdint>

namespace MeanField {
/// The `Comparison` subsection: how the particle measure is compared with the PDE's.
struct ComparisonParameters {
  double mmd_bandwidth;
  unsigned int mmd_features;
  unsigned int sliced_directions;
  unsigned int seed;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);
};

/// The distances between the particle measure μ_m and the PDE measure μ_h at one time.
struct ComparisonMetrics {
  double energy_gap;          ///< |F(μ_m) − F(μ_h)|
  double prediction_distance; ///< ‖f_μm − f_μh‖_{L²(ρ)}
  double mmd;                 ///< Gaussian MMD by random features (of the measures as they are)
  /// W1 (d = 1, exact) or sliced W2 (d = 2, 3); of the measures normalised to mass 1 when their
  /// masses differ (the unbalanced flow M15, doc/theory.md §5)
  double wasserstein;
  double mass_difference = 0.0; ///< |μ_m(Θ) − μ_h(Θ)|
};

/// The five ComparisonMetrics columns of a table, between the measures named @p mu and @p nu
/// (the comparison, study and study_pde_error tables), W1 or sliced W2 by the dimension.
void add_metric_columns(StatisticsTable &table, unsigned int dim, const std::string &mu,
                        const std::string &nu);
/// The values of those columns, in their order.
std::vector<StatisticsTable::Value> metric_values(const ComparisonMetrics &metrics);

/**
 * The metrics between a particle measure and a finite-volume measure (cell masses at the cell
 * centres; in d = 1 spread uniformly over cells of width @p cell_width for W1), given their
 * evaluated kernel states. Collective.
 */
ComparisonMetrics compare_measures(const WeightedCloud &particles,
                                   const Objective::State &particle_state,
                                   const WeightedCloud &mesh, const Objective::State &mesh_state,
                                   double cell_width, const Objective &objective,
                                   const ComparisonParameters &parameters, MPI_Comm comm);

/**
 * The metrics between the particles and the PDE after prepare_step() on both: the PDE measure is
 * the cell masses, at the cell centres (MMD, sliced W2) or spread uniformly over the cells (W1 in
 * 1D). Collective.
 */
template <int dim>
ComparisonMetrics compare(const FiniteVolumeSolver<dim> &pde, const ParticleSystem &particles,
                          const Objective &objective, const ComparisonParameters &parameters,
                          MPI_Comm comm);

/**
 * `Run mode = compare`: the PDE and the particle system from the same μ0, stepped to the same
 * output times (the PDE with its CFL step, the particles with η, both landing on them) up to the
 * PDE's End time; the metrics at every output time in `<output>/comparison`; `solution.pvd` and
 * `particles.pvd` on one timeline. Collective.
 */
template <int dim>
void run_compare(FiniteVolumeSolver<dim> &pde, ParticleSystem &particles, const Problem &problem,
                 const RunParameters &run, const PdeParameters &pde_parameters,
                 const ParticleParameters &particle_parameters,
                 const ComparisonParameters &parameters, MPI_Comm comm,
                 dealii::ConditionalOStream &pcout);
} // namespace MeanField
