#pragma once

#include <meanfield/problems/problem.h>

namespace MeanField {
/**
 * Sparse spike deconvolution (BLASSO) on the torus T = [0, 1), doc/theory.md §3.1.
 *
 * Ground truth Σ_j r*_j δ_{x*_j}; observations y_k = Σ_j r*_j ψ(s_k − x*_j) + σ ε_k on the
 * grid s_k = k/n with ρ_k = 1/n; θ = (x, r) ∈ T × R, φ(θ, s) = r ψ(s − x),
 * ℓ(f, y) = (κ/2)(f − y)², V(θ) = λ|r| (or its Huber smoothing).
 * Parameter space: x periodic on [0, 1), r ∈ [−R, R].
 */
class SparseDeconvolution : public Problem {
public:
  /// The filter ψ: the Dirichlet kernel ("Dirichlet") or the periodic Gaussian ("Gaussian").
  enum class Filter { dirichlet, gaussian };

  struct Parameters {
    Filter filter = Filter::dirichlet;
    unsigned int cutoff_frequency;
    double gaussian_width;
    unsigned int n_samples;
    unsigned int n_spikes;
    std::vector<double> spike_positions;
    std::vector<double> spike_weights;
    double min_separation;
    double min_weight;
    double max_weight;
    double noise;
    double lambda;
    double huber_width;
    double loss_scale;
    double weight_bound;
    unsigned int seed;

    static void declare_parameters(dealii::ParameterHandler &prm);
    void parse_parameters(dealii::ParameterHandler &prm);
    /// Bytes of the data set and of the kernel's work arrays that scale with it, on every rank.
    double data_bytes() const;
  };

  SparseDeconvolution(const Parameters &parameters, MPI_Comm communicator);

  ProblemType type() const override { return ProblemType::sparse_deconvolution; }
  std::vector<std::string> coordinate_names() const override { return {"x", "r"}; }
  Domain domain() const override;
  std::string default_initial_density() const override;
  /// x uniform on T, r ~ N(0, 0.1²): the default μ0 (also for random-feature positions).
  bool sample_default_initial(RandomStream &random, double *theta) const override;
  std::optional<WeightedCloud> ground_truth() const override;
  /// r ∈ [min(0, m0 r*_j), max(0, m0 r*_j)]: the ground truth as a probability measure.
  std::optional<Domain> required_box() const override;
  std::string box_entry() const override { return "Problem/Sparse deconvolution/Weight bound"; }
  /// F* of the BLASSO (exact ℓ1, Huber width 0) by sliding Frank–Wolfe to a certified relative
  /// duality gap of 1e-10 (paper/blasso.h), computed once; nullopt with a Huber penalty.
  std::optional<double> optimal_value() const override;
  std::string summary() const override;
  const Parameters &parameters() const { return prm; }
  ConvexBaseline convex_baseline() const override;

  const std::vector<double> &spike_positions() const { return positions; }
  const std::vector<double> &spike_weights() const { return weights; }

private:
  Parameters prm;
  std::vector<double> positions;
  std::vector<double> weights;
  mutable std::optional<double> optimum;
};
} // namespace MeanField
