#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace MeanField {
class Problem;

/// Boundary treatment of one direction of the parameter-space box.
enum class BoundaryType { periodic, no_flux, outflow };

/**
 * The parameters of the finite-volume PDE solver (MATH §4): subsections `Mesh`,
 * `Discretization` and `Time stepping`.
 */
struct PdeParameters {
  // Mesh
  std::vector<unsigned int> subdivisions; ///< coarse cells per direction (one value: all)
  unsigned int refinements;               ///< global refinements of the coarse mesh
  std::vector<double> lower, upper;       ///< box; empty: the problem's
  std::vector<std::string> boundaries;    ///< per direction; empty: the problem's default

  // Discretization
  std::string reconstruction;     ///< "first order" | "minmod"
  std::string face_velocity;      ///< "exact" | "discrete gradient"
  unsigned int quadrature_points; ///< Gauss points per direction for cell masses of μ0

  // Time stepping
  std::string integrator; ///< "euler" | "ssp-rk2" | "ssp-rk3"
  double cfl;
  double end_time;
  unsigned int max_steps;
  double stationarity_tolerance;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);

  /// Checks against the problem (box, periodicity, CFL vs reconstruction); throws InputError.
  void check_consistency(const Problem &problem) const;

  /// Box and boundary types resolved against the problem's defaults.
  std::vector<double> resolved_lower(const Problem &problem) const;
  std::vector<double> resolved_upper(const Problem &problem) const;
  std::vector<BoundaryType> resolved_boundaries(const Problem &problem) const;
};
} // namespace MeanField
