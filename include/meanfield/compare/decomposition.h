#pragma once

#include <meanfield/compare/study.h>
#include <meanfield/io/statistics_table.h>

#include <deal.II/base/conditional_ostream.h>

#include <vector>

namespace MeanField {
/**
 * The two distances of a study that are Hilbert norms (of f_μ, linear in μ; of the kernel mean
 * embedding with the study's fixed random features), for which (M11) splits the squared distance
 * into a particle part and a PDE part: the rows of `study_decomposition`.
 */
constexpr StudyMetric hilbert_metrics[] = {StudyMetric::prediction_distance, StudyMetric::mmd};

/**
 * Weighted least squares y ≈ a x + b: minimises Σ w_i (y_i − a x_i − b)² (@p w empty: w_i = 1,
 * ordinary least squares), with the covariance σ² (XᵀWX)⁻¹, σ² = Σ w_i r_i² / (n − 2): that of
 * ordinary least squares on the rows scaled by √w_i.
 */
struct LineFit {
  double a, b;       ///< slope and intercept (nan with fewer than two distinct x)
  double se_a, se_b; ///< their standard errors (nan with n <= 2)
  unsigned int n;    ///< points
};
LineFit least_squares_line(const std::vector<double> &x, const std::vector<double> &y,
                           const std::vector<double> &w = {});

/// The decomposition (M11h) of one metric d at one (initialization, time) of a study.
struct Decomposition {
  ParticleInitialization initialization;
  double time;
  StudyMetric metric;
  LineFit fit;                ///< d² = C/m + b over every (m, seed): a = C, b = E_h² (may be < 0)
  double pde_error;           ///< E_h = √max(b, 0)
  double pde_error_se;        ///< se(b)/(2 E_h); nan if E_h = 0
  double residual_slope;      ///< log(mean over seeds of d² − b) against log m (expected −1)
  unsigned int n_residual;    ///< values of m with a positive residual, used for that slope
  double reference_distance;  ///< d1 = d(μ_h, μ_ref) (nan: no reference)
  double refinement_estimate; ///< E_ref = d1 / (1 − 2^(−p r)) (M11i)

  /// The slope of d itself: half the residual slope (expected −1/2).
  double distance_slope() const { return 0.5 * residual_slope; }
  /// E_h / E_ref: the two estimates of the PDE's error agree when it is near 1.
  double ratio() const { return pde_error / refinement_estimate; }
};

/// E_ref = d1 / (1 − 2^(−p r)): the Richardson extrapolation (M11i) of the distance @p d1 to a
/// mesh refined @p refinements times, for a scheme of order @p order (nan if refinements = 0).
double refinement_estimate(double d1, double order, unsigned int refinements);

/**
 * (M11h) for every (initialization, time) of @p records and each of hilbert_metrics, in the
 * order of fit_slopes(): the least-squares fit of d² = C/m + E_h² over every run (weighted by
 * Study/Decomposition weights), the slope of the residual, and next to it the refinement
 * estimate (M11i) from @p reference (the distances between the study's PDE and the reference PDE
 * refined Study/Reference refinements times; empty: none) with Study/Assumed PDE order. A pure
 * function of its arguments.
 */
std::vector<Decomposition> decompose_errors(const std::vector<StudyRecord> &records,
                                            const ErrorFloor &reference,
                                            const StudyParameters &study);

/// The `study_decomposition` table: one row per Decomposition.
StatisticsTable decomposition_table(const std::vector<Decomposition> &decompositions);

/// A line per Decomposition on @p pcout: C, E_h ± se, E_ref, their ratio and the slope of d.
void print_decompositions(const std::vector<Decomposition> &decompositions,
                          dealii::ConditionalOStream &pcout);
} // namespace MeanField
