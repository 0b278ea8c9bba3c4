#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace MeanField {
class Problem;

/// The `Particles` subsection: the particle method of (M7).
struct ParticleParameters {
  unsigned int n_particles; ///< m
  std::string
      initialization; ///< iid | quasi-random | quantiles | pde density | evenly spaced | sphere
  unsigned int seed;
  double sphere_radius;     ///< r0 of `sphere`
  std::string integrator;   ///< euler | rk2 | rk4 | forward-backward | sgd
  double step;              ///< η, in mean-field time (the first step of `backtracking`)
  std::string step_control; ///< fixed | backtracking
  unsigned int batch_size;
  double end_time;
  unsigned int max_iterations;
  double stationarity_tolerance;
  unsigned int statistics_interval; ///< a statistics row every k iterations
  double trajectory_interval;       ///< θ of every particle every Δt into `trajectories` (0: off)

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);

  /// Checks against the problem (initialization that fits it, batch size ≤ n); InputError.
  void check_consistency(const Problem &problem) const;
};
} // namespace MeanField
