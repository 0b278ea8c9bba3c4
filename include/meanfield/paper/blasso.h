#pragma once

#include <meanfield/objective/objective.h>

#include <vector>

namespace MeanField {
/**
 * The optimum of sparse deconvolution over all measures (BLASSO, doc/theory.md §3.1),
 *
 *     F* = min_ν  R(∫ ψ(· − x) dν(x)) + λ |ν|(T),
 *
 * which is also the infimum of the particle objective F(μ) = R(∫ r ψ(· − x) dμ) + λ ∫ |r| dμ
 * (the measure ν = ∫ r δ_x dμ(x, r)). Computed by the sliding Frank–Wolfe algorithm
 * (Denoyelle, Duval, Peyré & Soubies 2019): add a spike where the dual certificate |G| is largest,
 * solve for the weights, then move positions and weights jointly by Newton's method, until the
 * duality gap is below the tolerance.
 *
 * The certificate needs sup_x |G(x)| of the trigonometric polynomial G(x) = Σ_k h_k ψ(s_k − x) of
 * degree L (the filter's last Fourier mode). On a grid of spacing h, every x lies within h/2 of a
 * node x_g, so by Taylor and Bernstein's inequality sup|G''| ≤ (2πL)² sup|G|:
 *
 *     sup|G| ≤ max_g (|G(x_g)| + |G'(x_g)| h/2) / (1 − (2πL h)²/8),
 *
 * a rigorous bound that is tight to O(h²) (at a maximum G' vanishes to first order).
 */
struct BlassoSolution {
  std::vector<double> positions; ///< x_j of the spikes
  std::vector<double> weights;   ///< their signed masses r_j
  double value = 0.0;            ///< F of Σ r_j δ_{x_j}: an upper bound of F*
  double lower_bound = 0.0;      ///< the dual value of the scaled residual: a lower bound of F*
  double certificate = 0.0;      ///< the bound of sup|G| / λ at the final measure (1 at F*)
  unsigned int iterations = 0;   ///< Frank–Wolfe iterations (spikes added)
  unsigned int grid_size = 0;    ///< nodes of the grid for sup|G|

  double gap() const { return value - lower_bound; }
};

/**
 * F* of a sparse-deconvolution objective (feature: FourierFilterFeature; loss: square; serial),
 * to a duality gap ≤ @p tolerance × F* (the grid for sup|G| is chosen from the tolerance).
 * Throws RunError if the gap is not reached in @p max_iterations spikes.
 */
BlassoSolution blasso_optimum(const Objective &objective, double lambda, double tolerance,
                              unsigned int max_iterations = 100);
} // namespace MeanField
