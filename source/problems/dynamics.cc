#include <meanfield/base/exceptions.h>
#include <meanfield/problems/dynamics.h>

namespace MeanField {
std::string to_string(const DynamicsType type) {
  return enum_name(dynamics_names, type);
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
                    "rho = exp(-F'(rho)/tau)/Z, which needs confinement (walls or weight decay).");
  prm.declare_entry("Temperature", "0", dealii::Patterns::Double(0),
                    "tau >= 0: the entropic regularization (diffusion coefficient) of Type = "
                    "langevin; must be > 0 there and 0 for wasserstein.");
  prm.leave_subsection();
}

void Dynamics::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Dynamics");
  type = parse_enum("Dynamics/Type", prm.get("Type"), dynamics_names);
  temperature = prm.get_double("Temperature");
  prm.leave_subsection();
  require(type != DynamicsType::wasserstein || temperature == 0.0,
          "Dynamics/Temperature = " + std::to_string(temperature) +
              " with Type = wasserstein: the Wasserstein flow has no noise; set Type = langevin "
              "or Temperature = 0.");
  require(type != DynamicsType::langevin || temperature > 0.0,
          "Dynamics/Type = langevin needs Temperature > 0 (tau = 0 is the Wasserstein flow).");
}
} // namespace MeanField
