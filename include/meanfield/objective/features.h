#pragma once

#include <meanfield/objective/feature.h>

#include <string>
#include <vector>

namespace MeanField {
/**
 * A neuron of a two-layer network (doc/theory.md §3.2): θ = (a, w) ∈ R^{1+p}, φ(θ, x) = a σ(w·x).
 * A bias is a constant last input coordinate x_p = 1 added by the data set.
 *
 * ReLU makes φ 2-homogeneous in θ; the sigmoid makes it 1-homogeneous in a only.
 *
 * Hot loops: for p ≤ 4 each pass is a fused loop over the data points that the
 * compiler vectorizes (AVX-512 on this hardware), threaded over blocks of data
 * (M1) or of query points (M3); for larger p the pre-activations w·x_k of a block
 * of particles are one matrix product (BLAS dgemm), and so is Σ_k h_k a σ'(w·x_k) x_k.
 */
class TwoLayerFeature : public Feature {
public:
  using Feature::add_prediction;
  using Feature::contract;

public:
  enum class Activation { relu, sigmoid };

  TwoLayerFeature(unsigned int input_dimension, Activation activation);

  std::string name() const override;
  unsigned int n_parameters() const override { return p + 1; }
  unsigned int input_dimension() const override { return p; }
  Activation activation() const { return sigma; }
  bool smooth() const override { return sigma != Activation::relu; }

  void evaluate(const double *theta, const Dataset &data, double *values,
                double *gradients) const override;
  void add_prediction(const WeightedCloud &cloud, const Dataset &data, double *f) const override;
  void contract(const PointSet &queries, const Dataset &data, const double *h, double *values,
                double *gradients) const override;

  /// Up to this input dimension the direct loops are used, beyond it BLAS.
  static constexpr unsigned int max_direct_input_dimension = 4;

private:
  unsigned int p;
  Activation sigma;

  template <int P, Activation A>
  void add_prediction_direct(const WeightedCloud &cloud, const Dataset &data, double *f) const;
  template <int P, Activation A>
  void contract_direct(const PointSet &queries, const Dataset &data, const double *h,
                       double *values, double *gradients) const;
  template <Activation A>
  void add_prediction_blas(const WeightedCloud &cloud, const Dataset &data, double *f) const;
  template <Activation A>
  void contract_blas(const PointSet &queries, const Dataset &data, const double *h, double *values,
                     double *gradients) const;
};

/**
 * A filtered spike on the torus T = [0, 1) (sparse deconvolution, doc/theory.md §3.1):
 * θ = (x, r), data point s ∈ T, φ(θ, s) = r ψ(s − x), with an even, real filter
 * given by its Fourier coefficients,
 *
 *   ψ(u) = Σ_{|l| ≤ L} c_l e^{2iπlu} = c_0 + 2 Σ_{l=1}^{L} c_l cos(2πlu).
 *
 * The Dirichlet kernel of cutoff f_c (M8) has c_l = 1, L = f_c; the periodic
 * Gaussian Σ_p exp(−(u − p)²/(2s²)) has c_l = √(2π) s exp(−2π²s²l²), truncated where
 * c_l/c_0 < 1e-17 (exact to round-off).
 *
 * The separable structure ψ(s − x) = Σ_l c_l e^{2iπls} e^{−2iπlx} makes both passes
 * cost O((m + n) L) instead of O(m n): (M1) through the moments
 * A_l = Σ_j w_j r_j e^{−2iπlx_j}, (M3) through B_l = Σ_k h_k e^{2iπls_k}, from which
 * G(x) = Σ_k h_k ψ(s_k − x) and G'(x) follow for every query point.
 */
class FourierFilterFeature : public Feature {
public:
  using Feature::add_prediction;
  using Feature::contract;

public:
  explicit FourierFilterFeature(std::vector<double> coefficients, std::string filter_name);

  /// ψ = Dirichlet kernel of cutoff f_c (M8).
  static FourierFilterFeature dirichlet(unsigned int cutoff_frequency);
  /// ψ = periodic Gaussian of standard deviation s.
  static FourierFilterFeature gaussian(double width);

  std::string name() const override { return filter_name; }
  unsigned int n_parameters() const override { return 2; }
  unsigned int input_dimension() const override { return 1; }

  /// ψ(u) and ψ'(u).
  double filter(double u) const;
  double filter_derivative(double u) const;
  const std::vector<double> &coefficients() const { return c; }
  std::vector<double> cosine_coefficients() const override { return c; }

  void evaluate(const double *theta, const Dataset &data, double *values,
                double *gradients) const override;
  void add_prediction(const WeightedCloud &cloud, const Dataset &data, double *f) const override;
  void contract(const PointSet &queries, const Dataset &data, const double *h, double *values,
                double *gradients) const override;

  /// Grid passes at the cost of the distinct positions x: O(N_x L + N) (see the class comment).
  void add_prediction(const GridPointSet &points, const double *weights, const Dataset &data,
                      double *f) const override;
  void contract(const GridPointSet &queries, const Dataset &data, const double *h, double *values,
                double *gradients) const override;
  void contract_partial(const GridPointSet &queries, const Dataset &data, const double *h,
                        unsigned int i, double *out) const override;

private:
  std::vector<double> c; // c_0 ... c_L
  std::string filter_name;
};

/**
 * The linear feature φ(θ, x) = θ·x of the exact solution E2 (doc/theory.md §3.3).
 * Both passes cost O((m + n) d): f_k = θ̄_w·x_k with θ̄_w = Σ_j w_j θ_j, and the data
 * part of F' is θ·b with b = Σ_k h_k x_k.
 */
class LinearFeature : public Feature {
public:
  using Feature::add_prediction;
  using Feature::contract;

public:
  explicit LinearFeature(unsigned int dim)
      : d(dim) {}

  std::string name() const override { return "linear"; }
  unsigned int n_parameters() const override { return d; }
  unsigned int input_dimension() const override { return d; }

  void evaluate(const double *theta, const Dataset &data, double *values,
                double *gradients) const override;
  void add_prediction(const WeightedCloud &cloud, const Dataset &data, double *f) const override;
  void contract(const PointSet &queries, const Dataset &data, const double *h, double *values,
                double *gradients) const override;

private:
  unsigned int d;
};
} // namespace MeanField
