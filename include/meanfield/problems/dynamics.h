#pragma once

#include <meanfield/base/enum_names.h>

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace MeanField {
/// Dynamics/Type: which gradient flow of F both discretizations follow (doc/theory.md §2, §7).
enum class DynamicsType {
  wasserstein, ///< ∂_t μ = ∇·(μ∇F'(μ)) (M5)
  langevin,    ///< mean-field Langevin: ∂_t μ = ∇·(μ∇F'(μ)) + τΔμ (M12)
  /// Wasserstein–Fisher–Rao: ∂_t μ = ∇·(μ∇F'(μ)) − α μ (F'(μ) − c) (M14, M15)
  wasserstein_fisher_rao
};
inline constexpr EnumName<DynamicsType> dynamics_names[] = {
    {DynamicsType::wasserstein, "wasserstein"},
    {DynamicsType::langevin, "langevin"},
    {DynamicsType::wasserstein_fisher_rao, "wasserstein-fisher-rao"}};
std::string to_string(DynamicsType type);

/// Dynamics/Mass of the Wasserstein–Fisher–Rao flow: c = ∫F'dμ/∫dμ (M14) or c = 0 (M15).
enum class FisherRaoMass {
  preserved, ///< (M14): the reaction moves mass, the total stays; its flow is the replicator one
  free       ///< (M15): the unbalanced (conic) flow, the gradient flow of F over all measures ≥ 0
};
inline constexpr EnumName<FisherRaoMass> fisher_rao_mass_names[] = {
    {FisherRaoMass::preserved, "preserved"}, {FisherRaoMass::free, "free"}};
std::string to_string(FisherRaoMass mass);

/**
 * The `Dynamics` subsection, declared once and read by the PDE, the particles, compare, study
 * and paper alike (one description of the dynamics, two discretizations). The Wasserstein flow
 * minimises F; the mean-field Langevin flow the free energy F_τ = F + τ∫ρ log ρ (M12), whose
 * stationary state is the self-consistent Gibbs measure ρ ∝ exp(−F'(ρ)/τ).
 */
struct Dynamics {
  DynamicsType type = DynamicsType::wasserstein;
  double temperature = 0.0;     ///< τ ≥ 0 (langevin); 0 otherwise
  double fisher_rao_rate = 0.0; ///< α ≥ 0 (wasserstein-fisher-rao); 0 otherwise
  FisherRaoMass mass = FisherRaoMass::preserved;

  /// τ > 0: the flow has a diffusion (and the particles noise).
  bool noisy() const { return temperature > 0.0; }
  /// α > 0: the flow has the Fisher–Rao reaction (and the particles evolving weights).
  bool reactive() const { return fisher_rao_rate > 0.0; }
  /// The reaction keeps the total mass (M14).
  bool mass_preserving() const { return mass == FisherRaoMass::preserved; }

  static void declare_parameters(dealii::ParameterHandler &prm);
  /// InputError if a parameter of another Type is set (Temperature ≠ 0 without langevin,
  /// Fisher-Rao rate ≠ 0 without wasserstein-fisher-rao) or the Type's own is 0.
  void parse_parameters(dealii::ParameterHandler &prm);
};
} // namespace MeanField
