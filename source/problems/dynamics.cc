#include <meanfield/base/exceptions.h>
#include <meanfield/problems/dynamics.h>

namespace MeanField {
std::string to_string(const DynamicsType type) {
  return enum_name(dynamics_names, type);
}

std::string to_string(const FisherRaoMass mass) {
  return enum_name(fisher_rao_mass_names, mass);
}

void Dynamics::declare_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Dynamics");
  prm.declare_entry("Type", "wasserstein",
                    dealii::Patterns::Selection(enum_selection(dynamics_names)),
                    "The gradient flow that the PDE and the particles both follow: wasserstein = "
                    "d_t mu = div(mu grad F'(mu)) (M5), particles theta <- theta - eta grad F'; "
                    "langevin = mean-field Langevin d_t mu = div(mu grad F'(mu)) + tau Laplace mu "
                    "(M12), the gradient flow of the free energy F + tau int rho log rho: the PDE "
                    "with the Scharfetter-Gummel flux (M13), the particles with Euler-Maruyama "
                    "noise sqrt(2 tau eta) N(0, I). Its stationary state is the Gibbs measure "
                    "rho = exp(-F'(rho)/tau)/Z, which needs confinement (walls or weight decay); "
                    "wasserstein-fisher-rao = transport plus the Fisher-Rao reaction d_t mu = "
                    "div(mu grad F') - alpha mu (F' - c) (M14, M15): the PDE with a cell source "
                    "integrated exactly over each step (Strang splitting), the particles with "
                    "weights w_i <- w_i exp(-alpha eta (F'(theta_i) - c)).");
  prm.declare_entry("Temperature", "0", dealii::Patterns::Double(0),
                    "tau >= 0: the entropic regularization (diffusion coefficient) of Type = "
                    "langevin; must be > 0 there and 0 for the other types.");
  prm.declare_entry("Fisher-Rao rate", "0", dealii::Patterns::Double(0),
                    "alpha >= 0 (1/time): the rate of the Fisher-Rao reaction of Type = "
                    "wasserstein-fisher-rao, relative to the transport (alpha = 0 is the "
                    "Wasserstein flow); must be > 0 there and 0 for the other types. Mass moves "
                    "from where F' is above c to where it is below at rate alpha |F' - c|.");
  prm.declare_entry("Mass", "preserved",
                    dealii::Patterns::Selection(enum_selection(fisher_rao_mass_names)),
                    "Type = wasserstein-fisher-rao: preserved = c = int F' dmu / int dmu, the "
                    "total mass stays 1 (M14, birth-death dynamics: particle weights renormalised "
                    "to sum 1); free = c = 0, the unbalanced (conic) flow whose total mass is a "
                    "dynamic quantity, d/dt mass = -alpha int F' dmu (M15): the gradient flow of F "
                    "over all non-negative measures, for BLASSO the convex problem itself.");
  prm.leave_subsection();
}

void Dynamics::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Dynamics");
  type = parse_enum("Dynamics/Type", prm.get("Type"), dynamics_names);
  temperature = prm.get_double("Temperature");
  fisher_rao_rate = prm.get_double("Fisher-Rao rate");
  mass = parse_enum("Dynamics/Mass", prm.get("Mass"), fisher_rao_mass_names);
  prm.leave_subsection();
  require(type == DynamicsType::langevin || temperature == 0.0,
          "Dynamics/Temperature = " + std::to_string(temperature) +
              " with Type = " + to_string(type) +
              ": only the Langevin flow has noise; set Type = langevin or " + "Temperature = 0.");
  require(type == DynamicsType::wasserstein_fisher_rao || fisher_rao_rate == 0.0,
          "Dynamics/Fisher-Rao rate = " + std::to_string(fisher_rao_rate) + " with Type = " +
              to_string(type) + ": only the Wasserstein-Fisher-Rao flow has a reaction; set " +
              "Type = wasserstein-fisher-rao or Fisher-Rao rate = 0.");
  require(type != DynamicsType::wasserstein_fisher_rao || fisher_rao_rate > 0.0,
          "Dynamics/Type = wasserstein-fisher-rao needs Fisher-Rao rate > 0 (alpha = 0 is the "
          "Wasserstein flow).");
  require(type != DynamicsType::langevin || temperature > 0.0,
          "Dynamics/Type = langevin needs Temperature > 0 (tau = 0 is the Wasserstein flow).");
}
} // namespace MeanField
