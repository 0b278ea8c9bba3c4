#pragma once

#include <meanfield/app/parameters.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/parameter_handler.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace MeanField {
/**
 * `Run mode = paper`: Chizat & Bach's "excess loss at convergence versus m" (doc/theory.md §6). For
 * every problem instance (seed) and every m, the non-convex particle gradient flow (subsection
 * Particles, with m particles) against the convex baseline with the same m: positions fixed at m
 * i.i.d. samples of μ0 (random features), only the weights optimized to a certificate (LASSO by
 * FISTA with its duality gap for sparse deconvolution; least squares by SVD for a network with
 * V = 0). The excess is F − F*, with F* computed independently (Problem::optimal_value(): sliding
 * Frank–Wolfe for BLASSO, 0 for a realizable teacher).
 */
struct PaperParameters {
  std::vector<unsigned int> particle_numbers; ///< m, increasing
  unsigned int n_seeds;                       ///< problem instances, seeds Seed, Seed + 1, ...
  double excess_floor; ///< a particle run stops once F − F* ≤ floor × (F*, or F(μ_0) if F* = 0)
  double stall_tolerance; ///< ... or once F fell by ≤ tol × F over the last stall window
  unsigned int stall_window;
  double baseline_tolerance; ///< relative duality gap of the LASSO baseline
  bool random_features;      ///< run the convex baseline
  bool distribute_runs;      ///< deal the runs to the ranks (each run serial) or run each on all
  /// the particle flows run for every (instance, m): Wasserstein (M5) and/or Wasserstein–Fisher–
  /// Rao (M14/M15 with the Dynamics subsection's rate and mass); empty: the run's Dynamics/Type
  std::vector<DynamicsType> particle_dynamics;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);
};

/// How a particle run ended.
struct ParticleOutcome {
  double F = 0.0, time = 0.0, wall = 0.0;
  unsigned long iterations = 0;
  std::string reason; ///< "optimum", "stalled", "end time", "iterations"
};

/**
 * The flow of @p system (already positioned) with the step and stopping rules of @p parameters,
 * stopped early as PaperParameters says (F* may be unknown: then only stalls stop early).
 * RunError on a blow-up (F non-finite or 100 × F(μ_0)). Collective.
 */
ParticleOutcome run_to_convergence(ParticleSystem &system, const ParticleParameters &parameters,
                                   const PaperParameters &paper, std::optional<double> F_star);

/// The convex baseline on fixed positions.
struct BaselineOutcome {
  double F = 0.0;           ///< the optimal value over the weights (to the certificate)
  double certificate = 0.0; ///< LASSO: the duality gap; least squares: the relative KKT residual
  unsigned int iterations = 0;
  double wall = 0.0;
};

/**
 * Random features: m positions drawn i.i.d. from the problem's μ0 (its own sampler, with
 * @p seed), the weight coordinate set to a unit atom, and the weights optimized: LASSO with the
 * problem's λ (sparse deconvolution) or least squares (two-layer network with V = 0).
 * InputError for other problems. Local (every rank solves the same small problem).
 */
BaselineOutcome random_features_baseline(const Problem &problem, unsigned int m, unsigned int seed,
                                         double tolerance);

/// The methods of Run mode = paper; to_string() gives the `method` column of the `paper` table
/// ("particles": the Wasserstein flow, "particles_wfr": the Wasserstein–Fisher–Rao flow,
/// "random_features").
enum class PaperMethod { particles, fisher_rao_particles, random_features };
std::string to_string(PaperMethod method);

/// One row of the `paper` table.
struct PaperRecord {
  unsigned int seed = 0, m = 0;
  PaperMethod method = PaperMethod::particles;
  double F = 0.0, F_star = 0.0, certificate = 0.0, time = 0.0, wall = 0.0;
  unsigned long iterations = 0;
  std::string reason;
};

/**
 * The whole study; @p make_problem(seed) builds the problem instance of a seed. Writes `paper`
 * (one row per run) and `paper_summary` (per m: the median and the range over seeds of the
 * excess of each method) to the output directory, as it goes. Collective.
 */
std::vector<PaperRecord>
run_paper(const std::function<std::unique_ptr<Problem>(unsigned int)> &make_problem,
          const RunParameters &run, const ParticleParameters &particles,
          const PaperParameters &paper, MPI_Comm comm, dealii::ConditionalOStream &pcout);
} // namespace MeanField
