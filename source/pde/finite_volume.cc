// FiniteVolumeSolver: the mesh and its numbering, μ0, and the explicit Shu–Osher SSP Runge–Kutta
// steps (doc/theory.md §4). The tables, the operator, the diagnostics, the output and the
// linearly implicit step live in the other finite_volume_*.cc files and implicit_step.cc.
#include <meanfield/base/exceptions.h>
#include <meanfield/base/stopwatch.h>
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/newton_solver.h>
#include <meanfield/pde/transport_solver.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_tools.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace MeanField {
using namespace dealii;

namespace {
template <int dim>
std::unique_ptr<typename DistributedMesh<dim>::type> make_mesh(MPI_Comm comm) {
  if constexpr (dim == 1)
    return std::make_unique<parallel::shared::Triangulation<1>>(comm);
  else
    return std::make_unique<parallel::distributed::Triangulation<dim>>(comm);
}
} // namespace

template <int dim>
FiniteVolumeSolver<dim>::FiniteVolumeSolver(const Problem &problem_,
                                            const PdeParameters &parameters, MPI_Comm communicator)
    : the_problem(problem_)
    , objective(problem_.objective().with_communicator(communicator))
    , prm(parameters)
    , comm(communicator)
    , boundary(parameters.resolved_boundaries(problem_))
    , lower(parameters.resolved_lower(problem_))
    , upper(parameters.resolved_upper(problem_))
    , mesh(make_mesh<dim>(communicator))
    , fe(0)
    , vector_fe(FE_DGQ<dim>(0), dim) {
  prm.check_consistency(the_problem);
  require(the_problem.dimension() == dim, "FiniteVolumeSolver: dimension mismatch.");

  // The box, subdivided; boundary ids 2i (lower) and 2i+1 (upper) in direction i.
  Point<dim> p1, p2;
  std::vector<unsigned int> repetitions(dim);
  for (unsigned int i = 0; i < dim; ++i) {
    p1[i] = lower[i];
    p2[i] = upper[i];
    repetitions[i] = prm.subdivisions.size() == 1 ? prm.subdivisions[0] : prm.subdivisions[i];
  }
  GridGenerator::subdivided_hyper_rectangle(*mesh, repetitions, p1, p2, true);
  std::vector<GridTools::PeriodicFacePair<typename Triangulation<dim>::cell_iterator>> periodic;
  for (unsigned int i = 0; i < dim; ++i)
    if (boundary[i] == BoundaryType::periodic)
      GridTools::collect_periodic_faces(static_cast<const Triangulation<dim> &>(*mesh), 2 * i,
                                        2 * i + 1, i, periodic);
  if (!periodic.empty())
    mesh->add_periodicity(periodic);
  mesh->refine_global(prm.refinements);
  refine_box();
  set_up_system();
}

template <int dim>
void FiniteVolumeSolver<dim>::set_up_system() {
  dof_handler.reinit(*mesh);
  dof_handler.distribute_dofs(fe);
  if (!prm.refinement.face_path())
    number_cells_lexicographically(); // (the face path keeps p4est's z-order)
  vector_dof_handler.reinit(*mesh);
  vector_dof_handler.distribute_dofs(vector_fe);
  owned = dof_handler.locally_owned_dofs();
  IndexSet relevant;
  DoFTools::extract_locally_relevant_dofs(dof_handler, relevant);
  ghost = relevant;
  ghost.subtract_set(owned);
  n_owned = owned.n_elements();
  n_local = n_owned + ghost.n_elements();

  rho.reinit(owned, comm);
  stage.reinit(owned, comm);
  rhs0.reinit(owned, comm);
  rhs.reinit(owned, comm);
  ghosted.reinit(owned, ghost, comm);
  slopes.clear();
  ghosted_slopes.clear();
  if (prm.reconstruction == Reconstruction::minmod)
    for (unsigned int i = 0; i < dim; ++i) {
      slopes.emplace_back(owned, comm);
      ghosted_slopes.emplace_back(owned, ghost, comm);
    }
  build_tables();
  if (prm.implicit())
    set_up_implicit_solver();
  prepared = false;
}

template <int dim>
double
FiniteVolumeSolver<dim>::project_density(const std::function<double(const Point<dim> &)> &density) {
  const QGauss<dim> quadrature(prm.quadrature_points);
  const MappingQ1<dim> mapping; // FEValues keeps a pointer to it
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  std::string bad;
  double local_mass = 0.0;
  {
    OwnedValues values(rho);
    std::vector<types::global_dof_index> index(1);
    const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
    for (const auto &cell : dof_handler.active_cell_iterators()) {
      if (!cell->is_locally_owned())
        continue;
      fe_values.reinit(cell);
      double integral = 0.0;
      for (unsigned int q = 0; q < quadrature.size(); ++q) {
        const double value = density(fe_values.quadrature_point(q));
        if (!(std::isfinite(value) && value >= 0) && bad.empty()) {
          std::ostringstream where;
          where << "is " << value << " at (" << fe_values.quadrature_point(q) << ")";
          bad = where.str();
        }
        integral += value * fe_values.JxW(q);
      }
      cell->get_dof_indices(index);
      values.data()[index[0] - first] = integral / cell->measure();
      local_mass += integral;
    }
  }
  const bool any_bad = Utilities::MPI::logical_or(!bad.empty(), comm);
  if (any_bad) {
    const unsigned int rank = Utilities::MPI::this_mpi_process(comm);
    const unsigned int first_bad =
        Utilities::MPI::min(bad.empty() ? Utilities::MPI::n_mpi_processes(comm) : rank, comm);
    throw InputError("Initial condition/Density must be finite and non-negative, but it " +
                     Utilities::MPI::broadcast(comm, bad, first_bad) + ".");
  }
  const double mass = Utilities::MPI::sum(local_mass, comm);
  require(mass > 0, "Initial condition/Density integrates to zero on the mesh: it must have "
                    "positive mass in the box.");
  rho /= mass;
  return mass;
}

template <int dim>
void FiniteVolumeSolver<dim>::set_initial_density(
    const std::function<double(const Point<dim> &)> &density) {
  double mass = project_density(density);
  // an adaptive mesh starts refined where μ0 puts its mass: Maximum level rounds of the
  // indicator, μ0 projected afresh on each mesh (no transfer error at t = 0)
  if (prm.refinement.adaptive)
    for (unsigned int round = 0; round < prm.refinement.maximum_level; ++round) {
      adapt_mesh(true);
      mass = project_density(density);
    }
  n_adaptations = 0;
  initial_density = density;
  initial_mass = mass;
  const Point<dim> m = this->mean();
  initial_mean.assign(&m[0], &m[0] + dim);
  current_time = 0.0;
  outflow_local = 0.0;
  n_steps = 0;
  prepared = false;
}

template <int dim>
typename FiniteVolumeSolver<dim>::Diagnostics FiniteVolumeSolver<dim>::prepare_step() {
  const FlushSubnormals guard;
  const Stopwatch watch(timings.kernel);
  Objective::State state;
  outflow_rate0 = apply_operator(rho, rhs0, state);
  {
    const OwnedValuesRead density(rho), rate(rhs0);
    update_diagnostics(state, density.data(), rate.data(), outflow_dissipation_local);
  }
  prepared = true;
  return last;
}

template <int dim>
double FiniteVolumeSolver<dim>::runge_kutta_stages(const double dt) {
  // Shu–Osher SSP Runge–Kutta; the outflow counter is integrated as one more component.
  const double outflow_start = outflow_local;
  // stage ← a ρⁿ + b (stage + dt L): the Shu–Osher combinations as plain loops over the owned
  // values (PETSc's VecAXPBY would wake the BLAS threads for every stage).
  auto combine = [&](const double a, const double b, const PETScWrappers::MPI::Vector &L) {
    OwnedValues out(stage);
    const OwnedValuesRead r0(rho), l(L);
    double *y = out.data();
    for (unsigned int c = 0; c < n_owned; ++c)
      y[c] = a * r0.data()[c] + b * (y[c] + dt * l.data()[c]);
  };
  Objective::State state; // (of the later stages: not kept)
  stage = rho;
  combine(0.0, 1.0, rhs0); // ρ¹ = ρⁿ + dt L(ρⁿ)
  double outflow_stage = outflow_start + dt * outflow_rate0;
  if (prm.integrator == RungeKutta::ssp_rk2) {
    const double rate = apply_operator(stage, rhs, state);
    combine(0.5, 0.5, rhs); // ρⁿ⁺¹ = ½ρⁿ + ½(ρ¹ + dt L(ρ¹))
    outflow_stage = 0.5 * outflow_start + 0.5 * (outflow_stage + dt * rate);
  } else if (prm.integrator == RungeKutta::ssp_rk3) {
    double rate = apply_operator(stage, rhs, state);
    combine(0.75, 0.25, rhs); // ρ² = ¾ρⁿ + ¼(ρ¹ + dt L(ρ¹))
    outflow_stage = 0.75 * outflow_start + 0.25 * (outflow_stage + dt * rate);
    rate = apply_operator(stage, rhs, state);
    combine(1.0 / 3.0, 2.0 / 3.0, rhs); // ρⁿ⁺¹ = ⅓ρⁿ + ⅔(ρ² + dt L(ρ²))
    outflow_stage = outflow_start / 3.0 + 2.0 / 3.0 * (outflow_stage + dt * rate);
  }
  return outflow_stage;
}

template <int dim>
void FiniteVolumeSolver<dim>::check_new_density(const PETScWrappers::MPI::Vector &v,
                                                const double dt, const std::string &advice) const {
  // Accept a step only if the new density is finite and non-negative.
  double local_min = std::numeric_limits<double>::max(), nan_probe = 0.0;
  {
    const OwnedValuesRead values(v);
    const double *x = values.data();
#pragma omp simd reduction(min : local_min) reduction(+ : nan_probe)
    for (unsigned int c = 0; c < n_owned; ++c) {
      local_min = std::min(local_min, x[c]);
      nan_probe += x[c] - x[c]; // 0, or NaN for a NaN or an infinity
    }
  }
  std::vector<double> maxima{-local_min, std::isnan(nan_probe) ? 1.0 : 0.0};
  Utilities::MPI::max(maxima, comm, maxima); // one reduction
  const bool finite = maxima[1] == 0.0;
  const double min_density = -maxima[0];
  if (finite && min_density >= -1e-12 * std::max(last.max_density, 1.0))
    return;
  std::ostringstream message;
  message << "step " << n_steps + 1 << " from t = " << current_time << " with dt = " << dt
          << " produced " << (finite ? "a negative density (min " : "a NaN or infinite density")
          << (finite ? std::to_string(min_density) + ")" : "") << ". " << advice
          << "; the state at t = " << current_time << " is kept.";
  throw RunError(message.str());
}

template <int dim>
void FiniteVolumeSolver<dim>::complete_step(const double dt) {
  const FlushSubnormals guard;
  Assert(prepared, ExcMessage("complete_step() needs prepare_step() first"));
  prepared = false;
  const Stopwatch watch(timings.stages);
  const double outflow_end = runge_kutta_stages(dt);
  check_new_density(stage, dt,
                    "Lower Time stepping/CFL number (now " + std::to_string(prm.cfl) + ")" +
                        (prm.reconstruction == Reconstruction::minmod
                             ? " or use Reconstruction = first order"
                             : ""));
  rho = stage;
  outflow_local = outflow_end;
  current_time += dt;
  ++n_steps;
  if (reactive()) // Lie splitting: the exact reaction with F' of the step's start (§7.2)
    react(dt);
}

template <int dim>
double FiniteVolumeSolver<dim>::step(const double max_dt) {
  const Diagnostics d = prepare_step();
  const double dt = std::min(d.stable_dt, max_dt);
  complete_step(dt);
  return dt;
}

template class FiniteVolumeSolver<1>;
template class FiniteVolumeSolver<2>;
template class FiniteVolumeSolver<3>;
} // namespace MeanField
