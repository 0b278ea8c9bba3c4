#pragma once

#include <meanfield/objective/objective.h>

#include <vector>

namespace MeanField {
/**
 * The convex problem in the weights of a measure with fixed positions (Chizat & Bach's
 * "convex minimization on magnitudes only", and the discretized BLASSO):
 *
 *     min_c  R(Σ_j c_j φ(θ_j, ·)) + λ ‖c‖₁,
 *
 * with θ_j fixed (the weight coordinate of φ set to 1, so that φ(θ_j, ·) is the feature of a unit
 * atom: r = 1 for deconvolution, a = 1 for a two-layer network). Solved by FISTA with the kernel's
 * own passes (the prediction Σ_j c_j φ(θ_j, ·) is Objective::evaluate of the cloud {(θ_j, c_j)},
 * the gradient Σ_k h_k φ(θ_j, x_k) its data first variation), the step from a power iteration for
 * the Lipschitz constant, and, for the square loss, a duality-gap certificate.
 */
struct ConvexResult {
  std::vector<double> weights; ///< c
  double value = 0.0;          ///< R + λ‖c‖₁ at c
  double gap = 0.0;            ///< duality gap (an upper bound of value − optimum); square loss
  unsigned int iterations = 0;
};

/**
 * FISTA until the duality gap is below @p tolerance × max(value, 1e-300) (square loss) or the
 * relative change of the value over 100 iterations is below it (otherwise), or @p max_iterations.
 * The Objective must be serial (MPI_COMM_SELF) and its regularizer is ignored (λ is @p l1).
 */
ConvexResult solve_weights(const Objective &objective, const PointSet &positions, double l1,
                           double tolerance, unsigned int max_iterations);

/**
 * F* of sparse deconvolution (BLASSO, doc/theory.md §3.1): the weights on the grid x_j = j/M, M
 * doubled from @p initial_grid until F_M changes by less than @p tolerance (relative), each grid
 * solved to a duality gap of tolerance/10. Returns the value on the finest grid; @p grid_size
 * receives M.
 */
double blasso_grid_optimum(const Objective &objective, double lambda, double tolerance,
                           unsigned int initial_grid, unsigned int &grid_size);
} // namespace MeanField
