#pragma once

#include <meanfield/objective/objective.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/point.h>
#include <deal.II/distributed/shared_tria.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_system.h>
#include <deal.II/lac/petsc_vector.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace MeanField {
/// p4est for dim >= 2; p4est has no 1D, so a shared (replicated, partitioned) mesh there.
template <int dim>
struct DistributedMesh {
  using type = dealii::parallel::distributed::Triangulation<dim>;
};
template <>
struct DistributedMesh<1> {
  using type = dealii::parallel::shared::Triangulation<1>;
};

/**
 * The conservative finite-volume solver of ∂_t μ = −∇·(μ v_μ), v_μ = −∇F'(μ) (M5, MATH §4;
 * Carrillo, Chertock & Huang 2015) on a distributed Cartesian mesh of the problem's box.
 *
 * The density is a vector of cell averages (one DG(0) degree of freedom per cell) in a
 * distributed PETSc vector with a ghost layer. Each stage of the explicit SSP Runge–Kutta
 * method hands the kernel the cloud {(cell centre, cell mass)} (one Objective::evaluate,
 * one MPI_Allreduce), gets the face velocities u_f (exact −∇F'(θ_f)·n_f or the discrete
 * gradient of F' between cell centres) and applies the upwind flux
 * F_f = u_f⁺ ρ_L^f + u_f⁻ ρ_R^f with first-order or minmod-reconstructed face values.
 *
 * Faces carry a canonical orientation (+e_i, from the lower cell L to the upper cell R) and
 * periodic faces a canonical point, so the two ranks sharing a face compute the identical
 * flux: total mass changes only by round-off, and outflow boundaries count what leaves.
 * The stepping loop works on flat face and cell tables built once: no mesh iterator, no
 * allocation per cell.
 */
template <int dim>
class FiniteVolumeSolver {
public:
  /// What is known about the current state after one kernel evaluation.
  struct Diagnostics {
    double time = 0.0;
    double F = 0.0, risk = 0.0, potential = 0.0; ///< F(μ_h) and its parts (M2)
    double mass = 0.0;                           ///< ∫ρ_h (without what left)
    double min_density = 0.0, max_density = 0.0;
    double dissipation = 0.0; ///< ∫|∇F'|² dμ_h at the cell centres (M6)
    double outflow = 0.0;     ///< mass that left through outflow boundaries so far
    double max_speed = 0.0;   ///< max over faces of |u_f|
    double stable_dt = 0.0;   ///< the CFL-limited step for this state
  };

  FiniteVolumeSolver(const Problem &problem, const PdeParameters &parameters,
                     MPI_Comm communicator);

  /// μ0: cell averages of @p density by Gauss quadrature, normalised to mass 1. Collective.
  /// Throws InputError if the density is negative or not finite somewhere, or has no mass.
  void set_initial_density(const std::function<double(const dealii::Point<dim> &)> &density);

  /**
   * Evaluate the current state (one kernel evaluation): its diagnostics and the stage-1
   * operator of the next step, which complete_step() reuses. Collective.
   */
  Diagnostics prepare_step();

  /// Advance by dt (≤ the stable step of prepare_step()) with the remaining RK stages. Collective.
  /// Throws RunError, with the state restored to the start of the step, on NaN or a negative
  /// density.
  void complete_step(double dt);

  /// prepare_step() + complete_step(min(stable dt, max_dt)); returns the step taken.
  double step(double max_dt);

  double time() const { return current_time; }
  unsigned int step_number() const { return n_steps; }

  /// Σ_K |ρ_K − (1/|K|)∫_K ρ_exact| |K| (cell averages of @p exact by Gauss quadrature).
  /// Collective.
  double l1_error(const std::function<double(const dealii::Point<dim> &)> &exact) const;

  /**
   * For problems with an exact solution (E1, E2): the L¹ error of the current state against
   * ρ_t = ρ0(Φ_t⁻¹θ)/det Φ_t, with ρ0 the initial density restricted to the box and normalised
   * like the discrete one, and Φ_t from the mean of the discrete μ0. Collective.
   */
  std::optional<double> exact_l1_error() const;

  /// ∫θ dμ_h / ∫dμ_h with the cell masses at the cell centres (the kernel's measure). Collective.
  dealii::Point<dim> mean() const;

  /// This rank's part of μ_h as the kernel sees it: owned cell centres × cell masses.
  const WeightedCloud &cloud() const;

  /**
   * Write the density, F', the velocity −∇F' and the MPI rank as `<directory>/solution/
   * solution_NNNNN.{vtu,pvtu}`; returns the .pvtu name relative to @p directory. Uses the fields
   * of the last prepare_step(). Collective.
   */
  std::string write_vtu(const std::string &directory, unsigned int index) const;

  const dealii::Triangulation<dim> &triangulation() const { return *mesh; }
  const dealii::PETScWrappers::MPI::Vector &density() const { return rho; }
  dealii::types::global_dof_index n_cells() const { return dof_handler.n_dofs(); }
  double min_cell_size() const { return h_min; }

private:
  const Problem &problem;
  const Objective objective;
  PdeParameters prm;
  MPI_Comm comm;
  std::vector<BoundaryType> boundary;
  std::vector<double> lower, upper;

  std::unique_ptr<typename DistributedMesh<dim>::type> mesh;
  dealii::FE_DGQ<dim> fe;
  dealii::DoFHandler<dim> dof_handler;
  dealii::FESystem<dim> vector_fe;
  dealii::DoFHandler<dim> vector_dof_handler; ///< for the velocity output
  dealii::IndexSet owned, ghost;
  unsigned int n_owned = 0, n_local = 0;

  // Flat tables in the local form order (owned cells, then ghosts). The mesh is Cartesian:
  // cells are axis-aligned boxes, so |f|/|K| = 1/h_K along the face normal.
  PointSet centres;                  ///< all local cells
  std::vector<double> volume;        ///< |K|
  std::vector<double> extent;        ///< h_K in each direction, dim per cell
  std::vector<double> half_extent;   ///< h_K/2, dim per cell (face values from slopes)
  std::vector<double> update_factor; ///< 1/h_K for owned cells, 0 for ghosts (their owner updates)
  std::vector<int> neighbors;        ///< owned cells: 2 dim neighbours (lower, upper) per cell
  std::vector<double> inverse_spacing; ///< owned cells: 1/distance to those neighbours (0: none)

  // Faces grouped by normal direction e_i: [first_face[i], first_boundary[i]) interior faces
  // (lower cell L, upper cell R), [first_boundary[i], first_face[i+1]) faces on the box
  // boundary (the outside is −1). Structure of arrays: the flux loops stream 8 bytes per face.
  std::vector<int> face_left, face_right;
  std::vector<unsigned int> first_face, first_boundary;
  PointSet face_points;     ///< the face centres in face order (periodic ones on the lower side)
  PointSet boundary_points; ///< the boundary faces' centres (discrete-gradient mode)
  GridPointSet owned_grid, local_grid, face_grid, boundary_grid; ///< the kernel's view of them
  std::vector<double> u, face_values, face_gradients, xi, xi_gradients; ///< per-stage work arrays
  std::vector<double> increment, zero_slopes; ///< work arrays over the local cells
  std::vector<double> outgoing_rate; ///< Σ_f max(u_out, 0)|f|/|K| per local cell (diagnostics)
  double h_min = 0.0;

  // State
  dealii::PETScWrappers::MPI::Vector rho;             ///< owned cell averages
  mutable dealii::PETScWrappers::MPI::Vector ghosted; ///< with ghost values
  std::vector<dealii::PETScWrappers::MPI::Vector> slopes, ghosted_slopes;
  dealii::PETScWrappers::MPI::Vector stage, rhs0, rhs;
  double current_time = 0.0, outflow_local = 0.0, outflow_rate0 = 0.0;
  std::function<double(const dealii::Point<dim> &)> initial_density;
  double initial_mass = 1.0;        ///< ∫ of the μ0 expression over the box (quadrature)
  std::vector<double> initial_mean; ///< of the discrete μ0
  unsigned int n_steps = 0;
  mutable WeightedCloud kernel_cloud;
  bool prepared = false;
  Diagnostics last;
  std::vector<double> cell_first_variation, cell_velocity; ///< owned cells, from prepare_step()

  void build_tables();
  /// The FV right-hand side L(ρ) into @p result; returns the local outflow rate. With
  /// @p diagnostics, also fills `last` (F, dissipation, stable dt, cell fields).
  double apply_operator(const dealii::PETScWrappers::MPI::Vector &density,
                        dealii::PETScWrappers::MPI::Vector &result, bool diagnostics);
  void update_cloud(const double *local_density) const;
  void check_state(const char *where) const;
};
} // namespace MeanField
