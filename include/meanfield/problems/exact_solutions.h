#pragma once

#include <meanfield/problems/problem.h>

#include <functional>

namespace MeanField {
/**
 * E1, pure drift: no data, V(θ) = ½ (θ − c)ᵀ K (θ − c) with K = diag(K_i) > 0.
 * Characteristics θ(t) = c + e^{−Kt}(θ_0 − c); velocity −K(θ − c).
 */
class PotentialDrift : public Problem {
public:
  struct Parameters {
    std::vector<double> stiffness;
    std::vector<double> center;
    double box_half_width;

    static void declare_parameters(dealii::ParameterHandler &prm);
    void parse_parameters(dealii::ParameterHandler &prm);
    double data_bytes() const { return 0.0; } ///< no data
  };

  PotentialDrift(const Parameters &parameters, MPI_Comm communicator);

  ProblemType type() const override { return ProblemType::potential_drift; }
  std::vector<std::string> coordinate_names() const override;
  Domain domain() const override;
  std::string default_initial_density() const override;
  std::optional<double> optimal_value() const override { return 0.0; }
  std::string summary() const override;

  /// The flow map Φ_t of (M5) for this problem (exact characteristics).
  AffineFlow flow(double t) const;
  std::optional<AffineFlow> exact_flow(double t, const std::vector<double> &) const override {
    return flow(t);
  }

private:
  Parameters prm;
};

/**
 * E2, linear features: φ(θ, x) = θ·x, y_k = θ*·x_k, ℓ = ½(f − y)², V = (λ/2)|θ|².
 * With A = Σ_k ρ_k x_k x_kᵀ and the mean θ̄ of μ, the velocity is affine,
 * v(θ) = −A(θ̄ − θ*) − λθ; the mean solves dθ̄/dt = −(A + λI)θ̄ + Aθ*, deviations
 * from it contract by e^{−λt}, so μ_t is an affine push-forward of μ_0.
 */
class LinearFeatures : public Problem {
public:
  struct Parameters {
    std::vector<double> target;
    double weight_decay;
    unsigned int n_samples;
    double box_half_width;
    unsigned int seed;

    static void declare_parameters(dealii::ParameterHandler &prm);
    void parse_parameters(dealii::ParameterHandler &prm);
    /// Bytes of the data set and the kernel state, on every rank.
    double data_bytes() const;
  };

  LinearFeatures(const Parameters &parameters, MPI_Comm communicator);

  ProblemType type() const override { return ProblemType::linear_features; }
  std::vector<std::string> coordinate_names() const override;
  Domain domain() const override;
  std::string default_initial_density() const override;
  std::string summary() const override;

  /**
   * F* = F(δ_{θ̄_∞}): the minimizer is the Dirac mass at θ̄_∞ = (A + λI)^{-1} A θ*, since a spread
   * around the mean only adds (λ/2) Var. F* = ½ (θ̄_∞ − θ*)ᵀ A (θ̄_∞ − θ*) + (λ/2)|θ̄_∞|².
   */
  std::optional<double> optimal_value() const override;

  /// A = Σ_k ρ_k x_k x_kᵀ (row-major d × d).
  const std::vector<double> &second_moment() const { return A; }
  const std::vector<double> &target() const { return prm.target; }
  double weight_decay() const { return prm.weight_decay; }

  /// The exact velocity −A(θ̄ − θ*) − λθ for a measure of mean @p mean.
  void exact_velocity(const std::vector<double> &mean, const double *theta, double *v) const;

  /// θ̄(t) = θ̄_∞ + e^{−(A+λI)t}(θ̄_0 − θ̄_∞), θ̄_∞ = (A + λI)^{-1} A θ*.
  std::vector<double> mean(double t, const std::vector<double> &initial_mean) const;

  /// Φ_t(θ_0) = θ̄(t) + e^{−λt}(θ_0 − θ̄_0).
  AffineFlow flow(double t, const std::vector<double> &initial_mean) const;
  std::optional<AffineFlow> exact_flow(double t,
                                       const std::vector<double> &initial_mean) const override {
    return flow(t, initial_mean);
  }

private:
  Parameters prm;
  std::vector<double> A;
  std::vector<double> eigenvalues;  // of A + λI
  std::vector<double> eigenvectors; // columns, row-major storage
};

/**
 * Eigen-decomposition of a symmetric d × d matrix (row-major) by cyclic Jacobi
 * rotations: S = Q diag(λ) Qᵀ, Q's columns in @p vectors (row-major).
 */
void symmetric_eigen(std::vector<double> S, unsigned int d, std::vector<double> &values,
                     std::vector<double> &vectors);
} // namespace MeanField
