#pragma once

#include <meanfield/base/enum_names.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace MeanField {
/**
 * A convex loss ℓ(f, y) of one prediction. The kernel calls the batched
 * risk() once per evaluation; value() and derivative() are the pointwise
 * functions, for tests and for readers.
 */
class Loss {
public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;

  virtual double value(double f, double y) const = 0;
  /// ∂₁ℓ(f, y).
  virtual double derivative(double f, double y) const = 0;

  /**
   * R = Σ_k ρ_k ℓ(f_k, y_k) (M2) and the residual g_k = ∂₁ℓ(f_k, y_k) (M3),
   * for all n data points in one call.
   */
  virtual double risk(std::size_t n, const double *f, const double *y, const double *rho,
                      double *g) const = 0;

  /// κ when ℓ(f, y) = (κ/2)(f − y)² (the convex baselines of §6 need the square loss); none
  /// otherwise.
  virtual std::optional<double> square_scale() const { return std::nullopt; }
};

/// ℓ(f, y) = (κ/2)(f − y)², κ > 0 a scale (κ = 1/λ_R in doc/theory.md §3.1).
class SquareLoss : public Loss {
public:
  explicit SquareLoss(double scale = 1.0);
  std::string name() const override { return "square"; }
  double value(double f, double y) const override;
  double derivative(double f, double y) const override;
  double risk(std::size_t n, const double *f, const double *y, const double *rho,
              double *g) const override;
  double scale() const { return kappa; }
  std::optional<double> square_scale() const override { return kappa; }

private:
  double kappa;
};

/// ℓ(f, y) = κ log(1 + exp(−y f)), y ∈ {−1, 1}; evaluated without overflow for any f.
class LogisticLoss : public Loss {
public:
  explicit LogisticLoss(double scale = 1.0);
  std::string name() const override { return "logistic"; }
  double value(double f, double y) const override;
  double derivative(double f, double y) const override;
  double risk(std::size_t n, const double *f, const double *y, const double *rho,
              double *g) const override;

private:
  double kappa;
};

/// The losses above, by their names ("square", "logistic"); to_string() gives the name.
enum class LossType { square, logistic };
inline constexpr EnumName<LossType> loss_type_names[] = {{LossType::square, "square"},
                                                         {LossType::logistic, "logistic"}};
std::string to_string(LossType type);

std::unique_ptr<Loss> create_loss(LossType type, double scale = 1.0);
/// The loss named "square" or "logistic"; throws InputError otherwise.
std::unique_ptr<Loss> create_loss(const std::string &name, double scale = 1.0);
} // namespace MeanField
