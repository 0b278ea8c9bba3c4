#include <meanfield/base/parallel.h>
#include <meanfield/objective/feature.h>

#include <vector>

namespace MeanField {
// Generic (M1): one evaluate() per particle over the whole batch of data points.
void Feature::add_prediction(const WeightedCloud &cloud, const Dataset &data, double *f) const {
  const std::size_t n = data.size();
  reduce_over_blocks(cloud.size(), 64, n, f,
                     [&](std::size_t begin, std::size_t end, double *partial) {
                       std::vector<double> phi(n);
                       for (std::size_t j = begin; j < end; ++j) {
                         evaluate(cloud.position(j), data, phi.data(), nullptr);
                         const double w = cloud.weights[j];
                         for (std::size_t k = 0; k < n; ++k)
                           partial[k] += w * phi[k];
                       }
                     });
}

// Generic data part of (M3): one evaluate() per query point, contracted with h.
void Feature::contract(const PointSet &queries, const Dataset &data, const double *h,
                       double *values, double *gradients) const {
  const std::size_t n = data.size();
  const unsigned int d = n_parameters();
  for_each_block(queries.size(), 64, [&](std::size_t begin, std::size_t end, std::size_t) {
    std::vector<double> phi(n), grad(gradients != nullptr ? n * d : 0);
    for (std::size_t q = begin; q < end; ++q) {
      evaluate(queries[q], data, phi.data(), gradients != nullptr ? grad.data() : nullptr);
      double value = 0.0;
      for (std::size_t k = 0; k < n; ++k)
        value += h[k] * phi[k];
      values[q] = value;
      if (gradients != nullptr)
        for (unsigned int i = 0; i < d; ++i) {
          double gi = 0.0;
          for (std::size_t k = 0; k < n; ++k)
            gi += h[k] * grad[k * d + i];
          gradients[q * d + i] = gi;
        }
    }
  });
}
} // namespace MeanField

namespace MeanField {
void Feature::add_prediction(const GridPointSet &points, const double *weights, const Dataset &data,
                             double *f) const {
  WeightedCloud cloud;
  cloud.points = points.expand();
  cloud.weights.assign(weights, weights + points.size());
  add_prediction(cloud, data, f);
}

void Feature::contract(const GridPointSet &queries, const Dataset &data, const double *h,
                       double *values, double *gradients) const {
  contract(queries.expand(), data, h, values, gradients);
}

void Feature::contract_partial(const GridPointSet &queries, const Dataset &data, const double *h,
                               const unsigned int i, double *out) const {
  const std::size_t n = queries.size();
  const unsigned int d = queries.dim();
  std::vector<double> values(n), gradients(n * d);
  contract(queries, data, h, values.data(), gradients.data());
  for (std::size_t q = 0; q < n; ++q)
    out[q] = gradients[q * d + i];
}
} // namespace MeanField
