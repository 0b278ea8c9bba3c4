#include <meanfield/base/exceptions.h>
#include <meanfield/objective/loss.h>

#include <cmath>

namespace MeanField {
namespace {
// log(1 + exp(z)) without overflow or loss of precision for any z.
inline double softplus(const double z) {
  return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
}

// 1 / (1 + exp(z)) without overflow.
inline double logistic_tail(const double z) {
  if (z >= 0) {
    const double e = std::exp(-z);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(z));
}
} // namespace

SquareLoss::SquareLoss(const double scale)
    : kappa(scale) {
  require(scale > 0 && std::isfinite(scale), "The loss scale must be positive.");
}

double SquareLoss::value(const double f, const double y) const {
  return 0.5 * kappa * (f - y) * (f - y);
}

double SquareLoss::derivative(const double f, const double y) const {
  return kappa * (f - y);
}

double SquareLoss::risk(const std::size_t n, const double *f, const double *y, const double *rho,
                        double *g) const {
  double R = 0.0;
#pragma omp simd reduction(+ : R)
  for (std::size_t k = 0; k < n; ++k) {
    const double r = f[k] - y[k];
    g[k] = kappa * r;
    R += rho[k] * 0.5 * kappa * r * r;
  }
  return R;
}

LogisticLoss::LogisticLoss(const double scale)
    : kappa(scale) {
  require(scale > 0 && std::isfinite(scale), "The loss scale must be positive.");
}

// ℓ = κ log(1 + e^{−yf}),  ∂₁ℓ = −κ y / (1 + e^{yf}).
double LogisticLoss::value(const double f, const double y) const {
  return kappa * softplus(-y * f);
}

double LogisticLoss::derivative(const double f, const double y) const {
  return -kappa * y * logistic_tail(y * f);
}

double LogisticLoss::risk(const std::size_t n, const double *f, const double *y, const double *rho,
                          double *g) const {
  double R = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    g[k] = derivative(f[k], y[k]);
    R += rho[k] * value(f[k], y[k]);
  }
  return R;
}

std::string to_string(const LossType type) {
  return enum_name(loss_type_names, type);
}

std::unique_ptr<Loss> create_loss(const LossType type, const double scale) {
  if (type == LossType::square)
    return std::make_unique<SquareLoss>(scale);
  return std::make_unique<LogisticLoss>(scale);
}

std::unique_ptr<Loss> create_loss(const std::string &name, const double scale) {
  for (const auto &[type, spelling] : loss_type_names)
    if (name == spelling)
      return create_loss(type, scale);
  throw InputError("Unknown loss <" + name + ">: choose square or logistic.");
}
} // namespace MeanField
