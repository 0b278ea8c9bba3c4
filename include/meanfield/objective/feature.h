#pragma once

#include <meanfield/objective/dataset.h>
#include <meanfield/objective/weighted_cloud.h>

#include <string>
#include <vector>

namespace MeanField {
/**
 * A feature map φ(θ, x), θ ∈ R^d, x ∈ R^p: a neuron, a filter impulse response,
 * a linear feature. Every call works on a whole batch of data points at once,
 * so there is one virtual call per particle or per batch, never per data point.
 *
 * Derived classes implement evaluate(); the two cloud-level passes
 * add_prediction() (M1) and contract() (M3) have generic implementations in
 * terms of evaluate() and are overridden where the structure of φ allows a
 * faster algorithm (matrix products, separable Fourier sums). Tests check
 * every override against the generic path.
 */
class Feature {
public:
  virtual ~Feature() = default;

  virtual std::string name() const = 0;

  /// d, the dimension of parameter space.
  virtual unsigned int n_parameters() const = 0;

  /// p, the dimension of a data point x_k.
  virtual unsigned int input_dimension() const = 0;

  /// Whether θ ↦ φ(θ, x) has a Lipschitz gradient (false for ReLU, whose kinks at w·x = 0 make
  /// descent tests of gradient steps fail at every step size).
  virtual bool smooth() const { return true; }

  /// For a translation-invariant filter φ((x, r), s) = r ψ(s − x) with ψ(u) = Σ_l c_l cos(2πlu):
  /// the coefficients c_0 … c_L (what the BLASSO certificate of §6 needs); empty otherwise.
  virtual std::vector<double> cosine_coefficients() const { return {}; }

  /**
   * φ(θ, x_k) → values[k] for every k of @p data, and, if @p gradients is not
   * null, ∇_θ φ(θ, x_k) → gradients[k * d + i].
   */
  virtual void evaluate(const double *theta, const Dataset &data, double *values,
                        double *gradients) const = 0;

  /**
   * (M1) for the local cloud: f[k] += Σ_j w_j φ(θ_j, x_k). Cost O(m n) in general.
   */
  virtual void add_prediction(const WeightedCloud &cloud, const Dataset &data, double *f) const;

  /**
   * The data part of (M3)–(M4) at the query points θ_q:
   *   values[q]            = Σ_k h_k φ(θ_q, x_k),
   *   gradients[q * d + i] = Σ_k h_k ∂_i φ(θ_q, x_k)      (if gradients is not null),
   * with h_k = ρ_k ∂₁ℓ(f(x_k), y_k). Overwrites values and gradients. Cost O(q n).
   */
  virtual void contract(const PointSet &queries, const Dataset &data, const double *h,
                        double *values, double *gradients) const;

  /**
   * The same two passes for points on a tensor grid (cell or face centres of a Cartesian
   * mesh); `weights` has one entry per point. The defaults expand the grid and call the
   * passes above; separable features override them.
   */
  virtual void add_prediction(const GridPointSet &points, const double *weights,
                              const Dataset &data, double *f) const;
  virtual void contract(const GridPointSet &queries, const Dataset &data, const double *h,
                        double *values, double *gradients) const;

  /**
   * One column of the gradient pass at grid points: out[q] = Σ_k h_k ∂_i φ(θ_q, x_k)
   * (overwrites): what a finite-volume face normal to e_i needs. The default takes it from
   * the full contract(); separable features write it directly.
   */
  virtual void contract_partial(const GridPointSet &queries, const Dataset &data, const double *h,
                                unsigned int i, double *out) const;
};
} // namespace MeanField
