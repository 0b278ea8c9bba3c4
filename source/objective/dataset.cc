#include <meanfield/base/exceptions.h>
#include <meanfield/objective/dataset.h>

#include <cmath>
#include <string>

namespace MeanField {
void Dataset::push_back(const double *x, const double rho, const double y) {
  inputs.insert(inputs.end(), x, x + input_dim);
  weights.push_back(rho);
  targets.push_back(y);
}

void Dataset::set_uniform_weights() {
  const double rho = size() > 0 ? 1.0 / size() : 0.0;
  weights.assign(size(), rho);
}

void Dataset::check() const {
  const std::size_t n = size();
  require(targets.size() == n && inputs.size() == n * input_dim,
          "Dataset: inconsistent sizes (" + std::to_string(n) + " weights, " +
              std::to_string(targets.size()) + " targets, " + std::to_string(inputs.size()) +
              " input coordinates for input dimension " + std::to_string(input_dim) + ").");
  double total = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    require(std::isfinite(weights[k]) && weights[k] >= 0.0,
            "Dataset: weight rho_" + std::to_string(k) + " is negative or not finite.");
    require(std::isfinite(targets[k]),
            "Dataset: target y_" + std::to_string(k) + " is not finite.");
    total += weights[k];
  }
  for (const double x : inputs)
    require(std::isfinite(x), "Dataset: an input coordinate is not finite.");
  require(n == 0 || std::abs(total - 1.0) < 1e-12,
          "Dataset: the weights rho_k must sum to 1 (they sum to " + std::to_string(total) + ").");
}
} // namespace MeanField
