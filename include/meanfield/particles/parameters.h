#pragma once

#include <meanfield/base/enum_names.h>
#include <meanfield/problems/dynamics.h>

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace MeanField {
class Problem;

/// Particles/Initialization, Particles/Integrator (M7a–M7e) and Particles/Step control (M7f);
/// to_string() gives the parameter file's spelling.
enum class ParticleInitialization {
  iid,
  quasi_random,
  quantiles,
  pde_density,
  evenly_spaced,
  sphere
};
enum class ParticleIntegrator { euler, rk2, rk4, forward_backward, sgd };
enum class StepControl { fixed, backtracking };
/// Particles/Fisher-Rao scheme: how particles follow the reaction of (M14) (doc/theory.md §7.2).
enum class FisherRaoScheme {
  weights,    ///< the weights evolve, d log w_i/dt = −α(F'(θ_i) − c) (M16p)
  birth_death ///< equal weights; particles killed or cloned at rate α|F'(θ_i) − c| (M14 only)
};
std::string to_string(ParticleInitialization initialization);
std::string to_string(ParticleIntegrator integrator);
std::string to_string(StepControl control);
/// The spellings of Particles/Initialization (also those of Study/Initializations).
inline constexpr EnumName<ParticleInitialization> initialization_names[] = {
    {ParticleInitialization::iid, "iid"},
    {ParticleInitialization::quasi_random, "quasi-random"},
    {ParticleInitialization::quantiles, "quantiles"},
    {ParticleInitialization::pde_density, "pde density"},
    {ParticleInitialization::evenly_spaced, "evenly spaced"},
    {ParticleInitialization::sphere, "sphere"}};

/// The `Particles` subsection: the particle method of (M7).
struct ParticleParameters {
  Dynamics dynamics; ///< the flow both discretizations follow: noise of variance 2τη per step
  unsigned int n_particles; ///< m
  ParticleInitialization initialization = ParticleInitialization::iid;
  unsigned int seed;
  double sphere_radius; ///< r0 of `sphere`
  ParticleIntegrator integrator = ParticleIntegrator::euler;
  double step; ///< η, in mean-field time (the first step of `backtracking`)
  StepControl step_control = StepControl::fixed;
  unsigned int batch_size;
  double end_time;
  unsigned int max_iterations;
  double stationarity_tolerance;
  unsigned int statistics_interval; ///< a statistics row every k iterations
  double trajectory_interval;       ///< θ of every particle every Δt into `trajectories` (0: off)
  FisherRaoScheme fisher_rao_scheme = FisherRaoScheme::weights;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);

  /// Checks against the problem (initialization that fits it, batch size ≤ n); InputError.
  void check_consistency(const Problem &problem) const;
  /// The integrators, step control and stop criteria that noisy (Langevin) and reactive
  /// (Wasserstein–Fisher–Rao) dynamics admit; InputError.
  void check_dynamics() const;
};
} // namespace MeanField
