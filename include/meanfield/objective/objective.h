#pragma once

#include <meanfield/objective/dataset.h>
#include <meanfield/objective/feature.h>
#include <meanfield/objective/loss.h>
#include <meanfield/objective/regularizer.h>
#include <meanfield/objective/weighted_cloud.h>

#include <mpi.h>

#include <memory>
#include <vector>

namespace MeanField {
/**
 * The one F' kernel of MeanField (the only code that evaluates features, losses and regularizers,
 * for the PDE and the particles alike; doc/theory.md §1): for a weighted point cloud μ = Σ_j w_j
 * δ_{θ_j}, spread over the ranks of a communicator,
 *
 *   f_μ(x_k) = Σ_j w_j φ(θ_j, x_k)                             (M1)
 *   F(μ)     = Σ_k ρ_k ℓ(f_μ(x_k), y_k) + Σ_j w_j V(θ_j)      (M2)
 *   F'(μ)(θ) = Σ_k ρ_k g_k φ(θ, x_k) + V(θ),  g_k = ∂₁ℓ(f_μ(x_k), y_k)   (M3)
 *   v_μ(θ)   = −∇_θ F'(μ)(θ)                                    (M4)
 *
 * The PDE and the particle method both call this class, and nothing else
 * evaluates features, losses or regularizers.
 *
 * Parallel model: evaluate() is collective and costs one MPI_Allreduce of
 * n + 2 numbers (f on the data, the V-part and the mass); first_variation()
 * and velocity() are local (any query points, no communication).
 *
 * Without a feature (feature == nullptr, no data) the objective is the pure
 * potential F(μ) = ∫ V dμ of the drift problem E1.
 */
class Objective {
public:
  /// Everything the kernel knows about μ after evaluate(): enough to evaluate F' anywhere.
  struct State {
    std::vector<double> prediction;        ///< f_μ(x_k), (M1)
    std::vector<double> residual;          ///< g_k = ∂₁ℓ(f_μ(x_k), y_k), (M3)
    std::vector<double> weighted_residual; ///< h_k = ρ_k g_k
    double risk = 0.0;                     ///< R(f_μ), the data part of F
    double potential = 0.0;                ///< ∫ V dμ, the regularizer part of F
    double mass = 0.0;                     ///< μ(Θ) = Σ_j w_j over all ranks

    double value() const { return risk + potential; } ///< F(μ), (M2)
  };

  Objective(std::shared_ptr<const Feature> feature, std::shared_ptr<const Loss> loss,
            std::shared_ptr<const Regularizer> regularizer, std::shared_ptr<const Dataset> data,
            MPI_Comm communicator = MPI_COMM_SELF);

  /// The pure-potential objective F(μ) = ∫ V dμ on R^d (no data).
  Objective(unsigned int n_parameters, std::shared_ptr<const Regularizer> regularizer,
            MPI_Comm communicator = MPI_COMM_SELF);

  /// The same objective on another communicator.
  Objective with_communicator(MPI_Comm communicator) const;

  /// The same feature, loss and regularizer on other data (a mini-batch; weights summing to 1).
  Objective with_data(std::shared_ptr<const Dataset> data) const;

private:
  /// R-part, residuals and the all-reduce shared by both evaluate() overloads.
  State finish_evaluation(std::vector<double> buffer) const;
  /// The data part of (M3), Σ_k h_k φ(θ, x_k) and its gradient, for either kind of point set.
  template <typename Points>
  void data_part(const State &state, const Points &queries, std::size_t q, double *values,
                 double *gradients) const;

public:
  /// d, the dimension of parameter space.
  unsigned int n_parameters() const { return dim; }

  /// (M1), (M2) and g of (M3) for the cloud whose local part this rank holds. Collective.
  State evaluate(const WeightedCloud &local_cloud) const;

  /**
   * The same for a measure on grid points: Σ_q weights[q] δ_{θ_q} with θ_q from @p points (the
   * cell centres and cell masses of a Cartesian mesh). Collective.
   */
  State evaluate(const GridPointSet &points, const std::vector<double> &weights) const;

  /**
   * (M3) and its gradient at the query points: values[q] = F'(μ)(θ_q) and, if
   * gradients is not null, gradients[q d + i] = ∂_i F'(μ)(θ_q). Local.
   */
  void first_variation(const State &state, const PointSet &queries, double *values,
                       double *gradients) const;

  /// (M3) at grid points. Local.
  void first_variation(const State &state, const GridPointSet &queries, double *values,
                       double *gradients) const;

  /**
   * One component of ∇F' at grid points: out[q] = ∂_i F'(μ)(θ_q) (the normal velocity −out of
   * finite-volume faces normal to e_i, at the cost of one array instead of d + 1). Local.
   */
  void partial_derivative(const State &state, const GridPointSet &queries, unsigned int i,
                          double *out) const;

  /// (M4): velocities[q d + i] = −∂_i F'(μ)(θ_q). Local.
  void velocity(const State &state, const PointSet &queries, double *velocities) const;

  /**
   * The data part of (M3) alone, Σ_k h_k φ(θ_q, x_k) and its gradient (F' without V): the
   * explicit half of a forward–backward step, whose implicit half is V's prox. Local.
   */
  void data_first_variation(const State &state, const PointSet &queries, double *values,
                            double *gradients) const;

  /// ∫ |∇F'(μ)|² dμ over the whole cloud: −dF/dt along the flow (M6). Collective.
  double dissipation(const State &state, const WeightedCloud &local_cloud) const;

  const Dataset &data() const { return *dataset; }
  const Feature *feature() const { return phi.get(); }
  const Loss *loss() const { return ell.get(); }
  const Regularizer &regularizer() const { return *V; }
  MPI_Comm communicator() const { return comm; }

private:
  unsigned int dim;
  std::shared_ptr<const Feature> phi;
  std::shared_ptr<const Loss> ell;
  std::shared_ptr<const Regularizer> V;
  std::shared_ptr<const Dataset> dataset;
  MPI_Comm comm;
};
} // namespace MeanField
