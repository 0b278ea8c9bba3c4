#pragma once

#include <cstddef>
#include <vector>

namespace MeanField {
/**
 * The data of the risk R(f) = Σ_k ρ_k ℓ(f(x_k), y_k) (M2): points x_k ∈ R^p
 * (row-major, inputs[k * input_dim + i]), weights ρ_k ≥ 0 with Σ ρ_k = 1, and
 * targets y_k. Every rank holds the whole data set (it is small next to the
 * cloud: n ≤ 10^4 while m and the mesh go to 10^5 and more).
 */
struct Dataset {
  unsigned int input_dim = 0;
  std::vector<double> inputs;
  std::vector<double> weights;
  std::vector<double> targets;

  std::size_t size() const { return weights.size(); }
  const double *input(const std::size_t k) const { return inputs.data() + k * input_dim; }

  /// Append one data point.
  void push_back(const double *x, double rho, double y);

  /// Uniform weights ρ_k = 1/n.
  void set_uniform_weights();

  /// Throws InputError unless sizes agree, ρ ≥ 0, Σ ρ = 1 (to 1e-12) and all values are finite.
  void check() const;
};
} // namespace MeanField
