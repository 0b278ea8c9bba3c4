#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/problems/problem.h>

#include <string>

namespace MeanField {
namespace {
const EnumName<ParticleIntegrator> integrator_names[] = {
    {ParticleIntegrator::euler, "euler"},
    {ParticleIntegrator::rk2, "rk2"},
    {ParticleIntegrator::rk4, "rk4"},
    {ParticleIntegrator::forward_backward, "forward-backward"},
    {ParticleIntegrator::sgd, "sgd"}};
const EnumName<FisherRaoScheme> fisher_rao_scheme_names[] = {
    {FisherRaoScheme::weights, "weights"}, {FisherRaoScheme::birth_death, "birth-death"}};
const EnumName<StepControl> step_control_names[] = {{StepControl::fixed, "fixed"},
                                                    {StepControl::backtracking, "backtracking"}};
} // namespace

std::string to_string(const ParticleInitialization initialization) {
  return enum_name(initialization_names, initialization);
}
std::string to_string(const ParticleIntegrator integrator) {
  return enum_name(integrator_names, integrator);
}
std::string to_string(const StepControl control) {
  return enum_name(step_control_names, control);
}

using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::Selection;

void ParticleParameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Particles");
  prm.declare_entry("Number of particles", "100", Integer(1, 100000000),
                    "m: the particle measure is mu_m = (1/m) sum_i delta_theta_i (M7).");
  prm.declare_entry(
      "Initialization", "iid", Selection(enum_selection(initialization_names)),
      "How theta_i(0) is drawn from mu0 (Initial condition/Density, restricted to the Mesh box "
      "for d <= 3; the problem's own mu0 for d > 3): iid = independent samples (one random "
      "stream per particle: the same particles on any number of MPI ranks); quasi-random = "
      "a Halton sequence thinned by rejection (d <= 3); quantiles = theta_i = CDF^-1((i - 1/2)/m) "
      "(d = 1); pde density = samples of the finite-volume initial density on the Mesh (exactly "
      "the PDE's initial condition); evenly spaced = the paper's deconvolution start, x_i = "
      "(i - 1/2)/m and r_i = 0; sphere = uniform on the sphere of radius Sphere radius "
      "(two-layer network).");
  prm.declare_entry("Seed", "1", Integer(0), "Seed of the initialization and of SGD batches.");
  prm.declare_entry("Sphere radius", "0.1", Double(0),
                    "r0 of Initialization = sphere: |theta_i(0)| = r0.");
  prm.declare_entry(
      "Integrator", "rk2", Selection(enum_selection(integrator_names)),
      "euler = gradient descent theta <- theta - eta grad F'(mu_m)(theta); rk2 (Heun, SSP) and "
      "rk4 = Runge-Kutta in mean-field time; forward-backward = explicit step on the data term, "
      "then the prox of eta V (soft-thresholding for l1); sgd = gradient descent on a fresh "
      "mini-batch every step (new teacher samples for the two-layer network, a random subset "
      "of the data otherwise).");
  prm.declare_entry("Step", "0.01", Double(1e-300),
                    "eta: the time step in mean-field time (t = sum of the steps); with Step "
                    "control = backtracking, the first step.");
  prm.declare_entry(
      "Step control", "fixed", Selection(enum_selection(step_control_names)),
      "fixed = every step is eta; backtracking = each step is accepted only if it decreases F "
      "by at least |theta_new - theta|^2_mu / (2 eta) (the descent lemma, which holds for eta "
      "<= 1/Lipschitz), else halved and retried; after an accepted step eta grows by 1.25. "
      "For euler and forward-backward: a gradient flow whose step follows the local stiffness "
      "(the F of stationary runs is the same, reached in far fewer steps). Needs a smooth "
      "feature: not the ReLU network, whose kinks defeat the test.");
  prm.declare_entry(
      "Fisher-Rao scheme", "weights", Selection(enum_selection(fisher_rao_scheme_names)),
      "How the particles follow the reaction of Dynamics/Type = wasserstein-fisher-rao "
      "(doc/theory.md §7.2): weights = each particle carries a weight, d log w_i/dt = -alpha "
      "(F'(theta_i) - c) (M16p), an exact weak solution for every m; birth-death = equal "
      "weights 1/m, and in each step particle i is killed (replaced by a copy of a uniformly "
      "chosen other particle) with probability 1 - exp(-alpha dt (F'_i - c)) when F'_i > c, or "
      "cloned (its copy replaces a uniformly chosen other particle) with probability 1 - "
      "exp(-alpha dt (c - F'_i)) when F'_i < c (Rotskoff et al. 2019): a second particle "
      "scheme of the same PDE (M14; Mass = preserved only), converging like m^(-1/2) in law.");
  prm.declare_entry("Batch size", "32", Integer(1),
                    "b: data points per SGD step (at most the number of samples when the problem "
                    "cannot draw fresh data).");
  prm.declare_entry("End time", "1", Double(0), "T: the run stops at t = T.");
  prm.declare_entry("Maximum number of iterations", "100000000", Integer(0),
                    "The run stops after this many steps at the latest.");
  prm.declare_entry("Stationarity tolerance", "0", Double(0),
                    "Stop when the mean particle speed (1/m) sum_i |d theta_i/dt| = (1/m) sum_i "
                    "|grad F'(theta_i)| (column mean speed) falls below this value (0: never).");
  prm.declare_entry(
      "Trajectory interval", "0", Double(0),
      "Record every particle's theta into <Output/Directory>/trajectories whenever t passes a "
      "multiple of this interval (mean-field time; 0: off): the paths drawn by "
      "postprocess/plot_trajectories.py.");
  prm.declare_entry("Statistics interval", "1", Integer(1),
                    "k: a row of the statistics table every k iterations (and at the output "
                    "times and the end); stiff problems take 10^5-10^6 small steps.");
  prm.leave_subsection();
}

void ParticleParameters::parse_parameters(dealii::ParameterHandler &prm) {
  dynamics.parse_parameters(prm);
  prm.enter_subsection("Particles");
  n_particles = prm.get_integer("Number of particles");
  initialization =
      parse_enum("Particles/Initialization", prm.get("Initialization"), initialization_names);
  seed = prm.get_integer("Seed");
  sphere_radius = prm.get_double("Sphere radius");
  integrator = parse_enum("Particles/Integrator", prm.get("Integrator"), integrator_names);
  step = prm.get_double("Step");
  step_control = parse_enum("Particles/Step control", prm.get("Step control"), step_control_names);
  batch_size = prm.get_integer("Batch size");
  end_time = prm.get_double("End time");
  max_iterations = prm.get_integer("Maximum number of iterations");
  stationarity_tolerance = prm.get_double("Stationarity tolerance");
  statistics_interval = prm.get_integer("Statistics interval");
  trajectory_interval = prm.get_double("Trajectory interval");
  fisher_rao_scheme = parse_enum("Particles/Fisher-Rao scheme", prm.get("Fisher-Rao scheme"),
                                 fisher_rao_scheme_names);
  prm.leave_subsection();
}

void ParticleParameters::check_dynamics() const {
  if (dynamics.reactive()) {
    require(integrator != ParticleIntegrator::sgd,
            "Particles/Integrator = sgd with Dynamics/Type = wasserstein-fisher-rao: the weights' "
            "update needs F' at the particles on the whole data; use euler, rk2, rk4 or "
            "forward-backward.");
    require(fisher_rao_scheme == FisherRaoScheme::weights || dynamics.mass_preserving(),
            "Particles/Fisher-Rao scheme = birth-death with Dynamics/Mass = free: killing and "
            "cloning keeps the number of particles, hence the mass (M14); use Fisher-Rao scheme "
            "= weights for the unbalanced flow (M15).");
    require(fisher_rao_scheme == FisherRaoScheme::weights || step_control == StepControl::fixed,
            "Particles/Fisher-Rao scheme = birth-death with Step control = backtracking: a "
            "random jump is not a descent step; use Step control = fixed.");
  }
  if (!dynamics.noisy())
    return;
  require(integrator != ParticleIntegrator::rk4,
          "Particles/Integrator = rk4 with Dynamics/Type = langevin: the classical Runge-Kutta "
          "method has no order beyond Heun's with additive noise; use euler (Euler-Maruyama), "
          "rk2 (stochastic Heun) or forward-backward.");
  require(step_control == StepControl::fixed,
          "Particles/Step control = backtracking with Dynamics/Type = langevin: a noisy step is "
          "not a descent step of F; use Step control = fixed.");
  require(stationarity_tolerance == 0.0,
          "Particles/Stationarity tolerance with Dynamics/Type = langevin: noisy particles never "
          "stop moving (their speed is that of the noise at the Gibbs state); set it to 0 and "
          "stop at the End time.");
}

void ParticleParameters::check_consistency(const Problem &problem) const {
  require(step_control == StepControl::fixed || integrator == ParticleIntegrator::euler ||
              integrator == ParticleIntegrator::forward_backward,
          "Particles/Step control = backtracking needs Integrator = euler or forward-backward "
          "(the descent test is that of one gradient or proximal-gradient step), not " +
              to_string(integrator) + ".");
  if (const Feature *phi = problem.objective().feature(); step_control != StepControl::fixed && phi)
    require(phi->smooth(),
            "Particles/Step control = backtracking needs a feature with a Lipschitz gradient; " +
                phi->name() +
                " has kinks (ReLU) where the descent test fails at every step: use Step control "
                "= fixed.");
  const unsigned int d = problem.dimension();
  const std::string name = problem.name();
  using Init = ParticleInitialization;
  require(initialization != Init::evenly_spaced ||
              problem.type() == ProblemType::sparse_deconvolution,
          "Particles/Initialization = evenly spaced is the sparse-deconvolution start (x evenly "
          "spaced on the torus, r = 0); the problem is " +
              name + ".");
  require(initialization != Init::sphere || problem.type() == ProblemType::two_layer_network,
          "Particles/Initialization = sphere is for the two-layer network; the problem is " + name +
              ".");
  require(initialization != Init::quantiles || d == 1,
          "Particles/Initialization = quantiles needs d = 1 (here d = " + std::to_string(d) +
              "): use iid or quasi-random.");
  require(d <= 3 || (initialization != Init::quasi_random && initialization != Init::pde_density),
          "Particles/Initialization = " + to_string(initialization) +
              " needs d <= 3 (a density on a box); "
              "here d = " +
              std::to_string(d) + ": use iid or sphere.");
  require(initialization != Init::sphere || sphere_radius > 0,
          "Particles/Sphere radius must be positive for Initialization = sphere.");
  check_dynamics();
  if (integrator == ParticleIntegrator::sgd) {
    RandomStream probe(0);
    const bool fresh = problem.sample_data(probe, 1) != nullptr;
    require(fresh || batch_size <= problem.objective().data().size(),
            "Particles/Batch size = " + std::to_string(batch_size) + " exceeds the " +
                std::to_string(problem.objective().data().size()) +
                " data points of the problem: lower it (at most the Number of samples).");
  }
}
} // namespace MeanField
