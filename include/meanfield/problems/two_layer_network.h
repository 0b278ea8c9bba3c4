#pragma once

#include <meanfield/objective/features.h>
#include <meanfield/objective/loss.h>
#include <meanfield/problems/problem.h>

namespace MeanField {
/**
 * A two-layer network in the teacher–student setting, doc/theory.md §3.2.
 *
 * θ = (a, w) ∈ R^{1+p}, φ(θ, x) = a σ(w·x) with p = d_in (+1 with a bias, the
 * data then carry a constant last coordinate 1). Teacher: m0 neurons with
 * w*_j uniform on the unit sphere of R^p and a*_j = ±1 (or +1), targets
 * y = (1/m0) Σ_j a*_j σ(w*_j·x) (the sign of it for the logistic loss). Inputs
 * uniform on the sphere S^{d_in − 1} or standard Gaussian; ρ_k = 1/n.
 * V = (λ/2)|θ|² (weight decay) or none. With V = 0 and the square loss the
 * teacher is a minimizer and F* = 0.
 */
class TwoLayerNetwork : public Problem {
public:
  /// Teacher output weights: a*_j = ±1 at random ("signed") or 1 ("positive").
  enum class OutputWeights { random_sign, positive };
  /// Input distribution: uniform on the unit sphere ("sphere") or standard Gaussian ("gaussian").
  enum class InputDistribution { sphere, gaussian };

  struct Parameters {
    TwoLayerFeature::Activation activation = TwoLayerFeature::Activation::relu;
    bool bias;
    unsigned int input_dimension;
    LossType loss = LossType::square;
    double loss_scale;
    double weight_decay;
    unsigned int n_teacher_neurons;
    OutputWeights teacher_output_weights = OutputWeights::random_sign;
    InputDistribution input_distribution = InputDistribution::sphere;
    unsigned int n_samples;
    double parameter_bound;
    unsigned int seed;

    static void declare_parameters(dealii::ParameterHandler &prm);
    void parse_parameters(dealii::ParameterHandler &prm);
    /// Bytes of the data set and of the kernel's work arrays that scale with it, on every rank.
    double data_bytes() const;
  };

  TwoLayerNetwork(const Parameters &parameters, MPI_Comm communicator);

  ProblemType type() const override { return ProblemType::two_layer_network; }
  std::vector<std::string> coordinate_names() const override;
  Domain domain() const override;
  std::string default_initial_density() const override;
  bool sample_default_initial(RandomStream &random, double *theta) const override;
  std::shared_ptr<Dataset> sample_data(RandomStream &random, std::size_t count) const override;
  std::optional<WeightedCloud> ground_truth() const override { return teacher; }
  std::optional<double> optimal_value() const override;
  std::string summary() const override;
  const Parameters &parameters() const { return prm; }
  ConvexBaseline convex_baseline() const override;

private:
  Parameters prm;
  WeightedCloud teacher;
  std::shared_ptr<const TwoLayerFeature> feature;
};
} // namespace MeanField
