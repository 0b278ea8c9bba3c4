#include <meanfield/base/parallel.h>
#include <meanfield/objective/features.h>

#include <vector>

namespace MeanField {

void LinearFeature::evaluate(const double *theta, const Dataset &data, double *values,
                             double *gradients) const {
  for (std::size_t k = 0; k < data.size(); ++k) {
    const double *x = data.input(k);
    double v = 0.0;
    for (unsigned int i = 0; i < d; ++i)
      v += theta[i] * x[i];
    values[k] = v;
    if (gradients != nullptr)
      for (unsigned int i = 0; i < d; ++i)
        gradients[k * d + i] = x[i];
  }
}

// (M1): f_k += θ̄_w · x_k with θ̄_w = Σ_j w_j θ_j.
void LinearFeature::add_prediction(const WeightedCloud &cloud, const Dataset &data,
                                   double *f) const {
  std::vector<double> moment(d, 0.0);
  reduce_over_blocks(cloud.size(), 4096, d, moment.data(),
                     [&](std::size_t begin, std::size_t end, double *sum) {
                       for (std::size_t j = begin; j < end; ++j)
                         for (unsigned int i = 0; i < d; ++i)
                           sum[i] += cloud.weights[j] * cloud.position(j)[i];
                     });
  for (std::size_t k = 0; k < data.size(); ++k) {
    double v = 0.0;
    for (unsigned int i = 0; i < d; ++i)
      v += moment[i] * data.input(k)[i];
    f[k] += v;
  }
}

// Data part of (M3): F'_R(θ) = θ·b, ∇ = b, with b = Σ_k h_k x_k.
void LinearFeature::contract(const PointSet &queries, const Dataset &data, const double *h,
                             double *values, double *gradients) const {
  std::vector<double> b(d, 0.0);
  for (std::size_t k = 0; k < data.size(); ++k)
    for (unsigned int i = 0; i < d; ++i)
      b[i] += h[k] * data.input(k)[i];
  for (std::size_t q = 0; q < queries.size(); ++q) {
    double v = 0.0;
    for (unsigned int i = 0; i < d; ++i) {
      v += queries[q][i] * b[i];
      if (gradients != nullptr)
        gradients[q * d + i] = b[i];
    }
    values[q] = v;
  }
}
} // namespace MeanField
