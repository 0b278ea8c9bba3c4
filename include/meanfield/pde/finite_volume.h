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
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace MeanField {
template <int dim>
struct FaceTable;
class TransportSolver;
class NewtonSolver;

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
 * The conservative finite-volume solver of ∂_t μ = −∇·(μ v_μ), v_μ = −∇F'(μ) (M5, doc/theory.md §4;
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
 *
 * Time stepping: explicit SSP Runge–Kutta (prepare_step() + complete_step()) or the linearly
 * implicit upwind step (M10; prepare_step() + implicit_step()), which freezes the face
 * velocities of the prepared state and solves (I/Δt + A) ρⁿ⁺¹ = ρⁿ/Δt with PETSc's KSP.
 * The implementation is split by idea: finite_volume.cc (set-up, state, explicit stages),
 * finite_volume_tables.cc (lattice, patch and face tables), finite_volume_operator.cc (L(ρ) and
 * its frozen-velocity matrix), finite_volume_diagnostics.cc, finite_volume_output.cc and
 * implicit_step.cc.
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
    double dissipation = 0.0; ///< Σ_f |K| F_f u_f, the fluxes' dissipation (M6h): ≈ −dF/dt
    double outflow = 0.0;     ///< mass that left through outflow boundaries so far
    double wall_flux = 0.0;   ///< mass per unit time the no-flux walls stop (outward upwind flux)
    double max_speed = 0.0;   ///< max over the cells' faces of |u_f|
    double stable_dt = 0.0;   ///< the CFL-limited step for this state
    double residual = 0.0;    ///< Σ_K |K| |L(ρ)_K| = ‖∂_t ρ_h‖_L1: 0 at a stationary state
    unsigned long cells = 0;  ///< active cells of the mesh
    unsigned int finest_level = 0; ///< levels above the mesh of Subdivisions, Global refinements
    // Dynamics/Type = langevin (τ > 0; NaN otherwise), doc/theory.md §7:
    double entropy = std::numeric_limits<double>::quiet_NaN();     ///< Σ_K |K| ρ_K log ρ_K
    double free_energy = std::numeric_limits<double>::quiet_NaN(); ///< F_τ = F + τ ∫ρ log ρ
    /// ‖ρ − e^{−F'(ρ)/τ}/Z‖_L1: 0 at the self-consistent Gibbs state
    double gibbs_residual = std::numeric_limits<double>::quiet_NaN();
    // Dynamics/Type = wasserstein-fisher-rao (α > 0; NaN otherwise), doc/theory.md §7.2:
    /// c of the reaction: ∫F'dμ/∫dμ (M14) or 0 (M15)
    double reaction_level = std::numeric_limits<double>::quiet_NaN();
    /// α∫(F' − c)²dμ: the reaction's part of −dF/dt (M16)
    double reaction_dissipation = std::numeric_limits<double>::quiet_NaN();
  };

  FiniteVolumeSolver(const Problem &problem, const PdeParameters &parameters,
                     MPI_Comm communicator);
  ~FiniteVolumeSolver();

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

  /**
   * The linearly implicit step (M10) of length @p dt from the prepared state: the face
   * velocities frozen, one assembly of I/dt + A and one KSP solve. Positive and conservative
   * for every dt (up to the KSP tolerance). Throws RunError, with the state restored, when the
   * KSP fails (naming its reason) or the result is not finite or negative. Collective.
   */
  void implicit_step(double dt);

  /**
   * The backward Euler step (M10b) of length @p dt from the prepared state: ρⁿ⁺¹ with
   * (ρⁿ⁺¹ − ρⁿ)/dt = L(ρⁿ⁺¹), the face velocities those of ρⁿ⁺¹, by Newton–Krylov. Returns
   * false, with the state restored, when Newton does not converge or the result has a negative
   * part beyond Newton's error (the caller retries shorter); a negative part within it is
   * clipped. Collective.
   */
  bool nonlinear_step(double dt);

  /**
   * The Fisher–Rao reaction (M14, M15) over @p dt, integrated exactly with F' frozen at the last
   * prepared state: ρ_K ← ρ_K e^{−α dt (F'_K − c)}, then (M14) rescaled to the mass it had, so
   * that the mass is kept to round-off. Positive for every dt. Applied after the transport step
   * from that state, this is the Lie splitting of doc/theory.md §7.2 at no extra kernel
   * evaluation. The state is then unprepared. Collective.
   */
  void react(double dt);

  /// Newton iterations of the last nonlinear_step() (its Krylov ones: linear_iterations()).
  unsigned int newton_iterations() const { return last_newton_iterations; }

  /// Back to the state before the last implicit_step() (a step the accuracy test rejects); the
  /// state is then unprepared. Collective.
  void undo_step();

  /**
   * After implicit_step(dt) and prepare_step() at the new state: dt max_f |u_f(ρⁿ⁺¹) −
   * u_f(ρⁿ)| / h over the owned cells' faces, the cells by which the error of the frozen
   * velocity moved mass in the step (the accuracy test of adaptive steps, M10a); with a
   * Fisher–Rao reaction at least α dt max_K |ΔF'_K|, the error in log ρ of its frozen F'.
   * Collective.
   */
  double frozen_velocity_displacement(double dt) const;

  /// "gmres + bjacobi, rtol 1e-12" (Scheme = linearly implicit; empty otherwise).
  std::string linear_solver_description() const;

  /// KSP iterations of the last implicit_step().
  unsigned int linear_iterations() const { return last_linear_iterations; }

  /// Wall seconds spent so far (this rank) in the parts of a step.
  struct StepTimings {
    double kernel = 0.0;   ///< prepare_step(): F', face velocities, L(ρ), diagnostics
    double stages = 0.0;   ///< complete_step(): the further Runge–Kutta stages
    double assembly = 0.0; ///< implicit_step(): I/Δt + A
    double solve = 0.0;    ///< implicit_step(): the KSP solve
  };
  const StepTimings &step_timings() const { return timings; }

  /**
   * The matrix I/dt + A of (M10) for the face velocities of the prepared state (first-order
   * upwind fluxes): one row per owned cell on the DG(0) flux sparsity (the cell and its face
   * neighbours). Non-negative diagonal, non-positive off-diagonal entries, column sums 1/dt
   * (outflow faces add what leaves). Collective.
   */
  const dealii::PETScWrappers::MPI::SparseMatrix &assemble_transport_matrix(double dt);

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

  /// The kernel state (f_μ, residuals, F and its parts) of the last prepare_step().
  const Objective::State &state() const { return last_state; }

  /**
   * Write the density, F', the velocity −∇F' and the MPI rank as `<directory>/solution/
   * solution_NNNNN.{vtu,pvtu}`; returns the .pvtu name relative to @p directory. Uses the fields
   * of the last prepare_step(). Collective.
   */
  std::string write_vtu(const std::string &directory, unsigned int index) const;

  /**
   * Mesh/Refinement/Adaptive (doc/theory.md §4.1): refine and coarsen by the mass indicator with
   * its buffer, 2:1 balanced, the density transferred conservatively and positively (children
   * keep the parent's average, a parent gets the mean of its children), repartitioned by p4est.
   * The mesh is changed only when a cell is short of the level the mass needs (Buffer cells) or
   * enough cells would coarsen, and then given Buffer cells + Buffer reserve layers; @p force:
   * whenever a cell is flagged. Whether the mesh changed (then the state is unprepared).
   * Collective.
   */
  bool adapt_mesh(bool force = false);
  /// Whether adapt_mesh() is due before the next step (every Adaptation interval steps).
  bool adaptation_due() const;
  /// Adaptations of the mesh so far.
  unsigned int adaptations() const { return n_adaptations; }

  /// Whether the face-table operator runs (a refined mesh, or Mesh/Refinement/Operator = faces).
  bool face_path() const { return faces != nullptr; }

  const dealii::Triangulation<dim> &triangulation() const { return *mesh; }
  const dealii::PETScWrappers::MPI::Vector &density() const { return rho; }
  dealii::types::global_dof_index n_cells() const { return dof_handler.n_dofs(); }
  const dealii::IndexSet &locally_owned_cells() const { return owned; }
  double min_cell_size() const { return h_min; }
  /// |K| of the owned cells into @p volumes (a vector on locally_owned_cells()).
  void cell_volumes(dealii::PETScWrappers::MPI::Vector &volumes) const;

  const Problem &problem() const { return the_problem; }
  MPI_Comm communicator() const { return comm; }

private:
  const Problem &the_problem;
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

  // The mesh is a uniform Cartesian box: N_i cells of width h_i in direction i. The operator
  // works on this rank's *patch*: the lattice box around its owned cells, one layer wider on
  // every side, stored as dense arrays (slot s = Σ_i a_i stride_i, a_0 fastest). Its extra
  // layer holds the ghost cells, the periodic copies of owned cells and, beyond a non-periodic
  // boundary, the outside (density 0). Every stencil loop is then a unit-stride loop without
  // index tables, and the kernel sees cell and face centres as full tensor products.
  std::array<unsigned int, dim> lattice_cells{}; ///< N_i
  std::array<double, dim> h{}, inverse_h{};
  double cell_volume = 0.0, h_min = 0.0;
  std::array<int, dim> patch_first{};          ///< lattice index of slot 0 in each direction
  std::array<unsigned int, dim> patch_cells{}; ///< slots per direction
  std::array<std::size_t, dim> patch_stride{}; ///< slot distance of neighbours along e_i
  std::size_t patch_size = 0, interior_begin = 0, interior_end = 0; ///< slots with all neighbours
  std::vector<unsigned int> owned_slot;                             ///< the slot of each owned cell
  /// (slot, owned cell, length): runs of owned cells at consecutive slots (lattice numbering)
  std::vector<std::array<unsigned int, 3>> owned_runs;
  std::vector<std::array<unsigned int, 2>> halo; ///< (slot, local cell): ghosts, periodic copies
  std::array<std::vector<double>, dim> slope_factor; ///< 1/h_i; 0 next to a wall and outside

  /// A face of an owned cell on a non-periodic side of the box: the upper face of `slot` in
  /// direction `direction`; `upper`: the box's upper side (the owned cell is `slot`).
  struct BoundaryFace {
    unsigned int slot, direction;
    bool upper, outflow;
    unsigned int cell; ///< the owned cell inside
  };
  std::vector<BoundaryFace> boundary_faces;
  PointSet boundary_points; ///< their centres (exact velocity in discrete-gradient mode)
  PointSet centres;         ///< owned cell centres (the kernel cloud's points)

  GridPointSet centre_grid;                ///< the patch's cell centres (periodic: wrapped)
  std::array<GridPointSet, dim> face_grid; ///< upper face centres of every slot, per direction

  // Work arrays over the patch: density, kernel weights (owned cells only), 1 on owned cells,
  // F' at the centres (later stages), F' and ∇F' at the centres in the first stage
  // (diagnostics), ∂_i F' at the upper face of each slot (u_i = −∂_i F'), minmod slopes.
  std::vector<double> P, W, owned_mask, xi, scratch, increment;
  std::vector<double> gibbs_xi; ///< F' at the owned centres (Langevin diagnostics)
  /// Fisher–Rao: F' at the owned centres of the prepared state and its reaction level c
  std::vector<double> reaction_xi, reaction_xi_frozen; ///< (frozen: at an implicit step's start)
  double reaction_c = 0.0;
  std::vector<double> boundary_values, boundary_gradients;
  std::array<std::vector<double>, dim> dF, sigma;
  /// τ > 0: the Scharfetter–Gummel coefficients of the upper face of each slot (M13), flux
  /// F = sg_lower ρ_s − sg_upper ρ_{s+e_i}; both 0 on no-flux walls.
  std::array<std::vector<double>, dim> sg_lower, sg_upper;
  std::vector<dealii::types::global_dof_index> slot_cell; ///< global cell of a slot (or invalid)

  // The linearly implicit step (M10): its matrix, solver, and the state it started from.
  dealii::PETScWrappers::MPI::SparseMatrix transport;
  /// Per owned cell c, from c·(2 dim + 1): the places (MatrixValues) of its row's entries for
  /// the upper and lower neighbour of direction i (2i, 2i + 1; -1 behind a wall) and for the
  /// cell itself (2 dim). A periodic direction of one or two cells repeats a place.
  std::vector<PetscInt> row_place;
  std::unique_ptr<TransportSolver> linear_solver;
  std::array<std::vector<double>, dim> dF_frozen; ///< the face velocities the step used
  dealii::PETScWrappers::MPI::Vector rho_previous;
  double time_previous = 0.0, outflow_previous = 0.0;
  unsigned int last_linear_iterations = 0, last_newton_iterations = 0;
  std::unique_ptr<NewtonSolver> newton; ///< Scheme = implicit (M10b)
  double newton_dt = 0.0;
  dealii::PETScWrappers::MPI::Vector newton_rate; ///< L(x) at the Newton iterate
  StepTimings timings;

  // The face-table path (locally refined meshes, finite_volume_faces.cc): per local cell (and
  // the outside) the density, mass rate, outgoing rate and minmod slopes; per face ∂_i F', the
  // flux, the frozen ∂_i F' of an implicit step and the matrix places (4 per face).
  std::unique_ptr<FaceTable<dim>> faces;
  std::vector<double> face_rho, face_mass_rate, face_out_rate, face_xi, cell_masses;
  std::vector<double> face_dF, face_flux, face_dF_frozen, face_slope_sums;
  /// τ > 0: the Scharfetter–Gummel coefficients per face, flux a ρ_lower − b ρ_upper (M13)
  std::vector<double> face_sg_lower, face_sg_upper;
  /// Per face the outgoing coefficient times |f| of its lower and upper cell (diagnostics)
  std::vector<double> face_out_lower, face_out_upper;
  /// Per direction and local cell: the minmod slope, ρ_K + h_K,i/2 σ_K,i and ρ_K − h_K,i/2 σ_K,i
  std::array<std::vector<double>, dim> face_sigma, face_upper_trace, face_lower_trace;
  std::vector<PetscInt> face_place, diagonal_place;
  unsigned int finest_level = 0, n_adaptations = 0, adapted_at_step = 0;

  // State
  dealii::PETScWrappers::MPI::Vector rho;             ///< owned cell averages
  mutable dealii::PETScWrappers::MPI::Vector ghosted; ///< with ghost values
  std::vector<dealii::PETScWrappers::MPI::Vector> slopes, ghosted_slopes;
  dealii::PETScWrappers::MPI::Vector stage, rhs0, rhs;
  double current_time = 0.0, outflow_local = 0.0, outflow_rate0 = 0.0, wall_flux_local = 0.0;
  double outflow_dissipation_local = 0.0; ///< the lower outflow faces' part of (M6h)
  std::function<double(const dealii::Point<dim> &)> initial_density;
  double initial_mass = 1.0;        ///< ∫ of the μ0 expression over the box (quadrature)
  std::vector<double> initial_mean; ///< of the discrete μ0
  unsigned int n_steps = 0;
  mutable WeightedCloud kernel_cloud;
  bool prepared = false;
  Diagnostics last;
  Objective::State last_state; ///< of the last prepare_step(): the output's F' and −∇F'

  void number_cells_lexicographically();
  /// DoFs, index sets, vectors, tables and the implicit solver of the current mesh.
  void set_up_system();
  /// Mesh/Refinement box: Box levels rounds of refinement of the cells meeting the box.
  void refine_box();
  /// The cell averages of @p density by quadrature into rho; returns their total mass, or
  /// throws InputError naming the first bad value. Collective.
  double project_density(const std::function<double(const dealii::Point<dim> &)> &density);
  /// The level the indicator wants per local cell (owned ones set), before the buffer.
  std::vector<double> indicator_levels();
  /// @p rounds rounds of the buffer: each cell takes the largest level of its face neighbours.
  void spread_levels(std::vector<double> &want, unsigned int rounds);
  /// @p want clamped to [0, Maximum level] and the kink's cap (centred row), per owned cell.
  std::vector<int> capped_levels(const std::vector<double> &want) const;
  /// The levels the mesh needs per owned cell (the indicator and Buffer cells), and those a
  /// change gives it (Buffer cells + Buffer reserve).
  std::pair<std::vector<int>, std::vector<int>> target_levels();
  /// Sets the refinement flags of adapt_mesh() if the mesh is to change; whether it is.
  bool flag_cells(const std::vector<int> &needed, const std::vector<int> &given, bool force);
  void build_tables();
  // The face-table path (finite_volume_faces.cc)
  void build_face_tables(const std::map<dealii::types::global_dof_index, int> &local_of);
  void face_velocities(const Objective::State &state, bool exact);
  /// No-flux walls of the upwind flux: ∂F' = 0 there, the outward flux they stop counted.
  void face_no_flux_walls();
  void face_slopes(bool has_ghosts);
  /// The ghosts' slopes of direction @p i from their owners.
  void exchange_face_slopes(unsigned int i);
  /// face_upper_trace and face_lower_trace from the density and the slopes.
  void face_traces();
  void face_increment(bool minmod_slopes);
  /// Per owned cell, the sum over the faces of its lower sides of @p below[f] and over those of
  /// its upper sides of @p above_sign · @p above[f] (CellSides: gathers, no scatter).
  void gather_face_sums(const double *below, const double *above, double *sums,
                        double above_sign) const;
  double apply_face_operator(const double *local_density,
                             dealii::PETScWrappers::MPI::Vector &result, Objective::State &state);
  void face_diagnostics(const Objective::State &state, const double *local_density,
                        const double *rate);
  void build_face_sparsity();
  void assemble_face_matrix(double dt);
  double face_outflow_rate(const double *owned_density) const;
  double face_velocity_displacement(double dt) const;
  /// α dt max_K |F'_K(ρⁿ⁺¹) − F'_K(ρⁿ)| over the owned cells: the reaction's frozen-F' error
  /// in an implicit step (M10a; 0 without a reaction). Local.
  double frozen_reaction_change(double dt) const;
  /// The diagnostics shared by both paths: extrema, reductions, the CFL step. Collective.
  void finish_diagnostics(const Objective::State &state, const double *local_density,
                          double dissipation, double residual, double max_speed, double max_rate);
  /// Parts of build_tables(): where each local value sits, the lattice, the patch box, the
  /// slot tables, the kernel's point grids and the work arrays.
  std::map<dealii::types::global_dof_index, int> local_indices();
  void build_lattice();
  void build_slots(const std::map<dealii::types::global_dof_index, int> &local_of);
  void build_kernel_grids();
  void build_transport_sparsity();
  /// The matrix pattern and the KSP of (M10); checks the PETSc options on the identity.
  void set_up_implicit_solver();
  void set_up_newton_solver();
  /// Whether the Newton solution in `stage` (‖G‖₂ = @p residual_norm) is finite and its
  /// negative part within Newton's error; if so, that part is clipped to 0 (M10b).
  bool accept_newton_solution(double dt, double residual_norm);
  /// The start of an implicit step: ρⁿ, t, the outflow and the face velocities of ρⁿ.
  void remember_step_start();
  /// f(begin, end) over the interior slots, in blocks of 4096 slots (32 kB per array), all
  /// directions of a block in turn, so that the block's increment stays in cache. (Threading these
  /// ~10 µs loops with TBB was measured slower on 2 cores: run one MPI rank per core instead.)
  template <typename Function>
  void for_each_slot_block(const Function &f) const {
    constexpr std::size_t slot_block_size = 4096;
    for (std::size_t begin = interior_begin; begin < interior_end; begin += slot_block_size)
      f(begin, std::min(begin + slot_block_size, interior_end));
  }
  /// The FV right-hand side L(ρ) into @p result (M9), a function of the density alone; returns
  /// the local outflow rate. Leaves the patch state (ρ, ∂_i F' at the faces, slopes) and the
  /// kernel state in @p state for update_diagnostics().
  double apply_operator(const dealii::PETScWrappers::MPI::Vector &density,
                        dealii::PETScWrappers::MPI::Vector &result, Objective::State &state);
  /// The density's owned values into P (and the masses into W), the halo's from @p local_density.
  void load_patch(const double *local_density);
  /// ∂_i F' at the upper face of every slot: exact (the face grids) or the discrete gradient (M9c).
  void compute_face_derivatives(const Objective::State &state, bool exact);
  /// Wall faces: zero on no-flux walls (counting what they stop), the exact ∂_i F' on outflow ones.
  void apply_walls(const Objective::State &state, bool exact);
  /// Minmod slopes σ_i of the patch (M9d), the halo's from their owners.
  void compute_slopes(bool has_ghosts);
  /// dρ/dt of every interior slot from the upwind fluxes (M9) into `increment`.
  void compute_increment(bool minmod_slopes);
  /// The local outflow rate (M9g); @p outflow_dissipation gets the lower outflow faces' part of
  /// (M6h).
  double outflow_rate(double &outflow_dissipation) const;
  /// `last` (and `last_state`) from the patch state: F, dissipation, extrema, stable dt.
  /// Collective.
  void update_diagnostics(const Objective::State &state, const double *local_density,
                          const double *rate, double outflow_dissipation);
  /// The explicit Shu–Osher stages after the first (from rhs0), into `stage`; returns the
  /// outflow counter at the end of the step.
  double runge_kutta_stages(double dt);
  /// RunError unless @p v is finite and ≥ −1e-12 max ρ (the step @p dt, @p advice on the fix).
  void check_new_density(const dealii::PETScWrappers::MPI::Vector &v, double dt,
                         const std::string &advice) const;
  /// Σ_f |K| F_f u_f over the owned cells' upper faces, from the patch state apply_operator()
  /// left (densities, slopes, ∂_i F' at the faces) (M6h).
  double face_dissipation(bool minmod_slopes) const;
  void update_cloud(const double *local_density) const;

  /// Dynamics/Type = langevin: the Scharfetter–Gummel flux replaces the upwind one.
  bool langevin() const { return prm.dynamics.noisy(); }
  /// sg_lower, sg_upper from ∂_i F' at the faces (M13); zero on no-flux walls, whose stopped
  /// flux goes to wall_flux_local.
  void compute_sg_coefficients();
  /// dρ/dt of every interior slot from the Scharfetter–Gummel fluxes into `increment`.
  void compute_sg_increment();
  /// −Σ_f |K| F_f (μ_R − μ_L)/h, μ = @p potential + τ log ρ on the patch: −dF_τ/dt.
  double sg_dissipation(const double *potential) const;
  /// The largest rate at which an owned cell loses mass (explicit steps: dt ≤ CFL / rate).
  double sg_max_out_rate() const;
  /// Entropy, free energy and Gibbs residual into `last`; F' at the centres into `xi`.
  /// Collective.
  void langevin_diagnostics(const Objective::State &state, const double *local_density);
  /// The same from the owned cells' densities @p rho, F' @p potential and volumes @p volume
  /// (nullptr: the lattice's cell volume). Collective.
  void gibbs_diagnostics(const Objective::State &state, const double *rho, const double *potential,
                         const double *volume);
  /// The face table's Scharfetter–Gummel coefficients face_sg_lower/upper from face_dF (M13);
  /// zero on no-flux walls, whose stopped flux goes to wall_flux_local.
  void face_sg_coefficients();
  /// −Σ_f F_f |f| (μ_b − μ_a) over the counted faces, μ = F' + τ log ρ (face_xi, face_rho).
  double face_sg_dissipation() const;
  /// F' at the local centres into face_xi, then gibbs_diagnostics() with the cell volumes.
  void face_langevin_diagnostics(const Objective::State &state);
  /// Dynamics/Type = wasserstein-fisher-rao: the flow has the reaction −αρ(F' − c).
  bool reactive() const { return prm.dynamics.reactive(); }
  /// F' at the owned centres for the kernel state @p state into @p values (n_owned). Local.
  void owned_first_variation(const Objective::State &state, double *values);
  /**
   * Fisher–Rao diagnostics of the prepared state (M14–M16): F' at the owned centres into
   * reaction_xi, c, and α∫(F' − c)²dμ into `last`, from the owned densities @p rho and volumes
   * @p volume (nullptr: the lattice's). Returns this rank's largest reaction rate α|F'_K − c|
   * (the explicit step's limit). Collective.
   */
  double reaction_diagnostics(const Objective::State &state, const double *rho,
                              const double *volume);
  /// The reaction's rate −αρ_K(F'_K − c) of owned cell @p c (0 without a reaction).
  double reaction_rate(const unsigned int c, const double rho_c) const {
    return reactive() ? -prm.dynamics.fisher_rao_rate * rho_c * (reaction_xi[c] - reaction_c) : 0.0;
  }
  /// The coefficients (a_f, b_f) of face f's flux a_f ρ_lower − b_f ρ_upper: upwind
  /// (max(−∂F', 0), max(∂F', 0)) or Scharfetter–Gummel.
  std::pair<double, double> face_coefficients(const std::size_t f) const {
    if (langevin())
      return {face_sg_lower[f], face_sg_upper[f]};
    return {std::max(-face_dF[f], 0.0), std::max(face_dF[f], 0.0)};
  }
};
} // namespace MeanField
