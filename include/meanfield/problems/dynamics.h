#pragma once

#include <meanfield/base/enum_names.h>

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace MeanField {
/// Dynamics/Type: which gradient flow of F both discretizations follow (doc/theory.md §2, §7).
enum class DynamicsType {
  wasserstein, ///< ∂_t μ = ∇·(μ∇F'(μ)) (M5)
  langevin     ///< mean-field Langevin: ∂_t μ = ∇·(μ∇F'(μ)) + τΔμ (M12)
};
inline constexpr EnumName<DynamicsType> dynamics_names[] = {
    {DynamicsType::wasserstein, "wasserstein"}, {DynamicsType::langevin, "langevin"}};
std::string to_string(DynamicsType type);

/**
 * The `Dynamics` subsection, declared once and read by the PDE, the particles, compare, study
 * and paper alike (one description of the dynamics, two discretizations). The Wasserstein flow
 * minimises F; the mean-field Langevin flow the free energy F_τ = F + τ∫ρ log ρ (M12), whose
 * stationary state is the self-consistent Gibbs measure ρ ∝ exp(−F'(ρ)/τ).
 */
struct Dynamics {
  DynamicsType type = DynamicsType::wasserstein;
  double temperature = 0.0; ///< τ ≥ 0 (langevin); 0 for wasserstein

  /// τ > 0: the flow has a diffusion (and the particles noise).
  bool noisy() const { return temperature > 0.0; }

  static void declare_parameters(dealii::ParameterHandler &prm);
  /// InputError if Type = wasserstein with a Temperature ≠ 0, or langevin with τ = 0.
  void parse_parameters(dealii::ParameterHandler &prm);
};
} // namespace MeanField
