#pragma once

#include <meanfield/objective/weighted_cloud.h>

#include <string>
#include <vector>

namespace MeanField {
/**
 * A hyperplane θ_i = value on which the gradient of V jumps (V = λ|r| at r = 0). The exact flow
 * traps mass there; a mesh must put such a hyperplane on cell centres, not on faces
 * (doc/theory.md §4, "Kinks of V belong on cell centres").
 */
struct Kink {
  unsigned int coordinate;
  double value;
  std::string origin; ///< what makes the kink, for messages ("the l1 penalty")
};

/**
 * The potential V(θ) of (M2): its value, its gradient (a subgradient where V
 * is not differentiable) and its proximal map prox_{ηV}(v) = argmin_u ½|u − v|² + η V(u),
 * used by forward–backward particle steps.
 */
class Regularizer {
public:
  virtual ~Regularizer() = default;
  virtual std::string name() const = 0;

  virtual double value(const double *theta, unsigned int dim) const = 0;

  /// gradient[i] = ∂_i V(θ) (overwrites).
  virtual void gradient(const double *theta, unsigned int dim, double *gradient) const = 0;

  /// θ ← prox_{ηV}(θ), η ≥ 0.
  virtual void prox(double *theta, unsigned int dim, double eta) const = 0;

  /// The hyperplanes where ∇V is discontinuous (none by default: V is C¹).
  virtual std::vector<Kink> kinks() const { return {}; }

  /**
   * For every query point: values[q] += V(θ_q) and, if gradients is not null,
   * gradients[q d + i] += ∂_i V(θ_q). One virtual call per batch. The gradients hold the data
   * part of ∇F' on entry: on a kink of V the subgradient is the one that makes the sum of minimal
   * norm (the velocity of the gradient flow there: the exact flow keeps mass on the kink while
   * |∂F'_data| ≤ λ, doc/theory.md (M3b)).
   */
  virtual void add_to(const PointSet &queries, double *values, double *gradients) const;
  /// The same for points on a grid (default: per point through value() and gradient()).
  virtual void add_to(const GridPointSet &queries, double *values, double *gradients) const;
  /// One gradient column at grid points: out[q] += ∂_i V(θ_q) (default through gradient()); on a
  /// kink, like add_to(), the minimal-norm element of out[q] + ∂_i V.
  virtual void add_partial(const GridPointSet &queries, unsigned int i, double *out) const;

  /// Σ_j w_j V(θ_j) over the local cloud.
  double integrate(const WeightedCloud &cloud) const;
  /// Σ_q w_q V(θ_q) over grid points (default through add_to; overridden without temporaries).
  virtual double integrate(const GridPointSet &points, const double *weights) const;
};

/// V ≡ 0.
class NoRegularizer : public Regularizer {
public:
  std::string name() const override { return "none"; }
  double value(const double *, unsigned int) const override { return 0.0; }
  void gradient(const double *, unsigned int dim, double *gradient) const override;
  void prox(double *, unsigned int, double) const override {}
  void add_to(const PointSet &, double *, double *) const override {}
  void add_to(const GridPointSet &, double *, double *) const override {}
  void add_partial(const GridPointSet &, unsigned int, double *) const override {}
  double integrate(const GridPointSet &, const double *) const override { return 0.0; }
  using Regularizer::integrate;
};

/**
 * V(θ) = λ|θ_c| on one coordinate c (the signed weight r of a spike, doc/theory.md §3.1).
 * gradient() uses sign(0) = 0; add_to() and add_partial(), which see the data part g of ∂_c F',
 * give the minimal-norm subgradient at θ_c = 0: soft-thresholding of g by λ. The prox is
 * soft-thresholding. With a Huber
 * width δ > 0, |r| is replaced by r²/(2δ) for |r| ≤ δ and |r| − δ/2 beyond,
 * which makes the PDE velocity continuous at r = 0.
 */
class L1Coordinate : public Regularizer {
public:
  L1Coordinate(unsigned int coordinate, double lambda, double huber_width = 0.0);
  std::string name() const override { return huber > 0 ? "huber" : "l1"; }
  double value(const double *theta, unsigned int dim) const override;
  void gradient(const double *theta, unsigned int dim, double *gradient) const override;
  void prox(double *theta, unsigned int dim, double eta) const override;
  /// θ_c = 0 for the exact |r| with λ > 0 (the Huber smoothing has a continuous gradient).
  std::vector<Kink> kinks() const override;
  void add_to(const PointSet &queries, double *values, double *gradients) const override;
  void add_to(const GridPointSet &queries, double *values, double *gradients) const override;
  void add_partial(const GridPointSet &queries, unsigned int i, double *out) const override;
  double integrate(const GridPointSet &points, const double *weights) const override;
  using Regularizer::integrate;

private:
  /// θ_c = 0 for the exact |r|: where the subgradient is a whole interval.
  bool on_kink(const double r) const { return r == 0.0 && huber == 0.0; }
  /// V and dV/dθ_c as functions of r = θ_c.
  double value_of(double r) const;
  double derivative_of(double r) const;

  unsigned int c;
  double lambda;
  double huber;
};

/**
 * V(θ) = ½ Σ_i K_i (θ_i − c_i)²: weight decay (λ/2)|θ|² when K_i = λ, c = 0, and the
 * confining potential of the exact solution E1 (doc/theory.md §3.3).
 * Prox: (v_i + η K_i c_i)/(1 + η K_i).
 */
class QuadraticPotential : public Regularizer {
public:
  QuadraticPotential(std::vector<double> stiffness, std::vector<double> center);
  /// Weight decay (λ/2)|θ|² in dimension d.
  static QuadraticPotential weight_decay(unsigned int dim, double lambda);

  std::string name() const override { return "quadratic"; }
  double value(const double *theta, unsigned int dim) const override;
  void gradient(const double *theta, unsigned int dim, double *gradient) const override;
  void prox(double *theta, unsigned int dim, double eta) const override;
  void add_to(const PointSet &queries, double *values, double *gradients) const override;
  void add_to(const GridPointSet &queries, double *values, double *gradients) const override;
  void add_partial(const GridPointSet &queries, unsigned int i, double *out) const override;

  const std::vector<double> &stiffness() const { return K; }
  const std::vector<double> &center() const { return c; }

private:
  std::vector<double> K;
  std::vector<double> c;
};
} // namespace MeanField
