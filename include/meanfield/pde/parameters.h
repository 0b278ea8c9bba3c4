#pragma once

#include <meanfield/base/enum_names.h>
#include <meanfield/pde/refinement.h>
#include <meanfield/problems/dynamics.h>

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace MeanField {
class Problem;
struct Domain;

/// Boundary treatment of one direction of the parameter-space box (Mesh/Boundary conditions).
enum class BoundaryType { periodic, no_flux, outflow };

/// Time stepping/Scheme: explicit SSP Runge–Kutta (M9), the linearly implicit step (M10) or the
/// backward Euler step solved by Newton–Krylov (M10b).
enum class TimeScheme { explicit_runge_kutta, linearly_implicit, backward_euler };

/// Discretization/Reconstruction (M9b), Discretization/Face velocity (M9c), Time
/// stepping/Integrator (M9e); to_string() gives the parameter file's spelling.
enum class Reconstruction { first_order, minmod };
enum class FaceVelocity { exact, discrete_gradient };
enum class RungeKutta { euler, ssp_rk2, ssp_rk3 };

/// The parameter file's spellings (base/enum_names.h).
inline constexpr EnumName<BoundaryType> boundary_names[] = {{BoundaryType::periodic, "periodic"},
                                                            {BoundaryType::no_flux, "no-flux"},
                                                            {BoundaryType::outflow, "outflow"}};
inline constexpr EnumName<TimeScheme> scheme_names[] = {
    {TimeScheme::explicit_runge_kutta, "explicit"},
    {TimeScheme::linearly_implicit, "linearly implicit"},
    {TimeScheme::backward_euler, "implicit"}};
inline constexpr EnumName<Reconstruction> reconstruction_names[] = {
    {Reconstruction::first_order, "first order"}, {Reconstruction::minmod, "minmod"}};
inline constexpr EnumName<FaceVelocity> face_velocity_names[] = {
    {FaceVelocity::exact, "exact"}, {FaceVelocity::discrete_gradient, "discrete gradient"}};
inline constexpr EnumName<RungeKutta> runge_kutta_names[] = {{RungeKutta::euler, "euler"},
                                                             {RungeKutta::ssp_rk2, "ssp-rk2"},
                                                             {RungeKutta::ssp_rk3, "ssp-rk3"}};
std::string to_string(BoundaryType b);
std::string to_string(TimeScheme s);
std::string to_string(Reconstruction r);
std::string to_string(FaceVelocity v);
std::string to_string(RungeKutta i);

/**
 * The parameters of the finite-volume PDE solver (doc/theory.md §4): subsections `Mesh`,
 * `Discretization` and `Time stepping`, and the run's `Dynamics`.
 */
struct PdeParameters {
  Dynamics dynamics; ///< the flow (Wasserstein or mean-field Langevin) the scheme discretizes

  // Mesh
  std::vector<unsigned int> subdivisions; ///< coarse cells per direction (one value: all)
  unsigned int refinements;               ///< global refinements of the coarse mesh
  std::vector<double> lower, upper;       ///< box; empty: the problem's
  std::vector<std::string> boundaries;    ///< per direction; empty: the problem's default
  RefinementParameters refinement;        ///< Mesh/Refinement: static box and adaptivity

  // Discretization
  Reconstruction reconstruction = Reconstruction::first_order;
  FaceVelocity face_velocity = FaceVelocity::exact;
  unsigned int quadrature_points; ///< Gauss points per direction for cell masses of μ0

  // Time stepping
  RungeKutta integrator = RungeKutta::ssp_rk2;
  double cfl;
  double end_time;
  unsigned int max_steps;
  double stationarity_tolerance;
  TimeScheme scheme = TimeScheme::explicit_runge_kutta;
  bool implicit() const { return scheme != TimeScheme::explicit_runge_kutta; }
  double step_tolerance;             ///< linearly implicit: the accuracy test's bound (0: fixed)
  double initial_step, maximum_step; ///< linearly implicit (0: the CFL step; no bound)
  std::string linear_solver_options; ///< PETSc options of the implicit step's KSP
  std::string command_line_solver_options; ///< the same from the command line (not an entry)

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);

  /// Every check of the mesh and the scheme against the problem: check_box(), check_kinks(),
  /// periodicity, CFL against reconstruction. Throws InputError.
  void check_consistency(const Problem &problem) const;
  /// Dynamics/Type = langevin: first-order reconstruction, no outflow boundaries.
  void check_dynamics(const std::vector<BoundaryType> &types) const;
  /// Mesh/Refinement against the scheme: its own checks, and what the face path supports.
  void check_refinement(unsigned int d) const;
  /// The box alone (entry sizes, finite, not inverted): enough to sample μ0 on it.
  void check_box(const Problem &problem) const;
  /// Every kink of V inside the box lies on cell centres (explicit bounds may not); the message
  /// holds corrected bounds.
  void check_kinks(const Problem &problem) const;
  /// Between no-flux walls, the box holds the problem's required_box() (the ground truth of
  /// deconvolution): a check of the runs whose answer is the PDE's (pde, compare, study), not of
  /// the mesh itself. (Outflow boundaries are open on purpose and report the mass they lose.)
  void check_solution_fits(const Problem &problem) const;

  /// Cells per direction of the final mesh: Subdivisions × 2^(Global refinements), in d directions.
  std::vector<double> cells_per_direction(unsigned int d) const;

  /**
   * The mesh box: Lower/Upper bounds as given, or the problem's box shifted by at most half a
   * cell of the final mesh in each direction where V has a kink, so that every kink lies on a row
   * of cell centres (doc/theory.md §4). check_kinks() refuses explicit bounds (or a periodic
   * direction) that put a kink anywhere else.
   */
  Domain mesh_box(const Problem &problem) const;

  /// The mesh box with the periodic directions of the boundary conditions: the walls at which
  /// noisy particles reflect as the PDE's no-flux walls hold its mass.
  Domain walls(const Problem &problem) const;

  /// One line for the banner: the mesh box, and the shift that put the kinks of V on cell centres.
  std::string box_summary(const Problem &problem) const;

  /// Box and boundary types resolved against the problem's defaults (the box of mesh_box()).
  std::vector<double> resolved_lower(const Problem &problem) const;
  std::vector<double> resolved_upper(const Problem &problem) const;
  std::vector<BoundaryType> resolved_boundaries(const Problem &problem) const;
};
} // namespace MeanField
