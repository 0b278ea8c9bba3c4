#include <meanfield/base/exceptions.h>
#include <meanfield/pde/finite_volume.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/numerics/data_out.h>

#include <petscvec.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

namespace MeanField {
using namespace dealii;

namespace {
// RAII read access to the owned + ghost values of a ghosted PETSc vector (local form order).
class LocalForm {
public:
  explicit LocalForm(const PETScWrappers::MPI::Vector &v)
      : vector(v) {
    VecGhostGetLocalForm(vector, &local);
    VecGetArrayRead(local, &values);
  }
  ~LocalForm() {
    VecRestoreArrayRead(local, &values);
    VecGhostRestoreLocalForm(vector, &local);
  }
  const double *data() const { return values; }

private:
  Vec vector, local = nullptr;
  const double *values = nullptr;
};

// RAII write access to the owned values of a PETSc vector.
class OwnedValues {
public:
  explicit OwnedValues(PETScWrappers::MPI::Vector &v)
      : vector(v) {
    VecGetArray(vector, &values);
  }
  ~OwnedValues() { VecRestoreArray(vector, &values); }
  double *data() { return values; }

private:
  Vec vector;
  double *values = nullptr;
};

// Densities decay to subnormal numbers (< 2.2e-308) in empty cells, and arithmetic on those is
// ~100x slower on x86. While stepping, flush them to zero (FTZ and DAZ), then restore the caller's
// floating-point state. No density of interest is affected.
class FlushSubnormals {
public:
  FlushSubnormals() {
#if defined(__SSE__)
    saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040); // FTZ (bit 15) | DAZ (bit 6)
#endif
  }
  ~FlushSubnormals() {
#if defined(__SSE__)
    _mm_setcsr(saved);
#endif
  }

private:
  unsigned int saved = 0;
};

inline double minmod(const double a, const double b) {
  return a * b <= 0 ? 0.0 : (a > 0 ? std::min(a, b) : std::max(a, b));
}

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
    : problem(problem_)
    , objective(problem_.objective().with_communicator(communicator))
    , prm(parameters)
    , comm(communicator)
    , boundary(parameters.resolved_boundaries(problem_))
    , lower(parameters.resolved_lower(problem_))
    , upper(parameters.resolved_upper(problem_))
    , mesh(make_mesh<dim>(communicator))
    , fe(0)
    , vector_fe(FE_DGQ<dim>(0), dim) {
  prm.check_consistency(problem);
  require(problem.dimension() == dim, "FiniteVolumeSolver: dimension mismatch.");

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

  dof_handler.reinit(*mesh);
  dof_handler.distribute_dofs(fe);
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
  if (prm.reconstruction == "minmod")
    for (unsigned int i = 0; i < dim; ++i) {
      slopes.emplace_back(owned, comm);
      ghosted_slopes.emplace_back(owned, ghost, comm);
    }
  build_tables();
}

template <int dim>
void FiniteVolumeSolver<dim>::build_tables() {
  // Where each ghost value sits in the local form: write every owned global index into the
  // vector, update the ghosts and read them back (independent of PETSc's ghost ordering).
  std::map<types::global_dof_index, int> local_of;
  {
    const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
    {
      OwnedValues values(stage);
      for (unsigned int i = 0; i < n_owned; ++i)
        values.data()[i] = static_cast<double>(first + i);
    }
    ghosted = stage;
    LocalForm local(ghosted);
    for (unsigned int i = 0; i < n_local; ++i)
      local_of[static_cast<types::global_dof_index>(std::llround(local.data()[i]))] = i;
  }
  auto local_index = [&](const typename DoFHandler<dim>::active_cell_iterator &cell) {
    std::vector<types::global_dof_index> index(1);
    cell->get_dof_indices(index);
    const auto found = local_of.find(index[0]);
    Assert(found != local_of.end(), ExcInternalError());
    return found->second;
  };

  centres = PointSet(dim, n_local);
  volume.assign(n_local, 0.0);
  extent.assign(n_local * dim, 0.0);
  neighbors.assign(n_owned * 2 * dim, -1);
  h_min = std::numeric_limits<double>::max();

  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned() && !cell->is_ghost())
      continue;
    const int c = local_index(cell);
    const Point<dim> centre = cell->center();
    for (unsigned int i = 0; i < dim; ++i) {
      centres[c][i] = centre[i];
      extent[c * dim + i] = cell->extent_in_direction(i);
      h_min = std::min(h_min, extent[c * dim + i]);
    }
    volume[c] = cell->measure();
  }

  // Faces, grouped by direction, interior ones first. Each face once per rank: an owned cell
  // contributes its upper faces, and its lower faces when the cell below is not owned here
  // (a ghost, or the outside of the box).
  struct FaceRecord {
    int left, right;
    Point<dim> point;
  };
  std::vector<std::vector<FaceRecord>> interior(dim), on_boundary(dim);
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned())
      continue;
    const int c = local_index(cell);
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int side = 0; side < 2; ++side) {
        const unsigned int f = 2 * i + side;
        int other = -1;
        bool other_owned = false;
        if (cell->has_periodic_neighbor(f)) {
          const auto neighbor = cell->periodic_neighbor(f);
          AssertThrow(neighbor->is_active(), ExcNotImplemented());
          other = local_index(neighbor);
          other_owned = neighbor->is_locally_owned();
        } else if (!cell->at_boundary(f)) {
          const auto neighbor = cell->neighbor(f);
          AssertThrow(neighbor->is_active(), ExcNotImplemented());
          other = local_index(neighbor);
          other_owned = neighbor->is_locally_owned();
        }
        neighbors[c * 2 * dim + f] = other;
        if (side == 0 && other_owned)
          continue;
        // The query point of the exact velocity; a periodic face is always named by its
        // point on the lower side of the box, whichever rank computes it.
        Point<dim> point = cell->face(f)->center();
        if (boundary[i] == BoundaryType::periodic &&
            std::abs(point[i] - upper[i]) < 1e-12 * (upper[i] - lower[i]))
          point[i] = lower[i];
        const FaceRecord record{side == 1 ? c : other, side == 1 ? other : c, point};
        (other >= 0 ? interior : on_boundary)[i].push_back(record);
      }
  }
  face_left.clear();
  face_right.clear();
  face_points = PointSet(dim);
  boundary_points = PointSet(dim);
  first_face.assign(dim + 1, 0);
  first_boundary.assign(dim, 0);
  for (unsigned int i = 0; i < dim; ++i) {
    first_face[i] = face_left.size();
    for (const auto *group : {&interior[i], &on_boundary[i]}) {
      if (group == &on_boundary[i])
        first_boundary[i] = face_left.size();
      for (const FaceRecord &record : *group) {
        face_left.push_back(record.left);
        face_right.push_back(record.right);
        face_points.push_back(&record.point[0]);
        if (group == &on_boundary[i])
          boundary_points.push_back(&record.point[0]);
      }
    }
  }
  first_face[dim] = face_left.size();
  h_min = Utilities::MPI::min(h_min, comm);

  half_extent.assign(n_local * dim, 0.0);
  update_factor.assign(n_local * dim, 0.0);
  for (unsigned int c = 0; c < n_local; ++c)
    for (unsigned int i = 0; i < dim; ++i) {
      half_extent[c * dim + i] = 0.5 * extent[c * dim + i];
      update_factor[c * dim + i] = c < n_owned ? 1.0 / extent[c * dim + i] : 0.0;
    }
  inverse_spacing.assign(n_owned * 2 * dim, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c)
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int side = 0; side < 2; ++side) {
        const int other = neighbors[c * 2 * dim + 2 * i + side];
        if (other >= 0)
          inverse_spacing[c * 2 * dim + 2 * i + side] =
              2.0 / (extent[c * dim + i] + extent[other * dim + i]);
      }
  increment.assign(n_local, 0.0);
  outgoing_rate.assign(n_local, 0.0);
  zero_slopes.assign(n_local, 0.0);

  kernel_cloud = WeightedCloud(dim);
  kernel_cloud.points = PointSet(dim, n_owned);
  std::copy(centres.coordinates.begin(), centres.coordinates.begin() + n_owned * dim,
            kernel_cloud.points.coordinates.begin());
  kernel_cloud.weights.assign(n_owned, 0.0);

  // The kernel sees cell and face centres as grids: separable features (sparse deconvolution)
  // then cost O(distinct coordinates) per evaluation instead of O(points).
  owned_grid = GridPointSet::from_points(kernel_cloud.points);
  local_grid = GridPointSet::from_points(centres);
  face_grid = GridPointSet::from_points(face_points);
  boundary_grid = GridPointSet::from_points(boundary_points);
  u.assign(face_left.size(), 0.0);
  face_values.assign(face_points.size(), 0.0);
  face_gradients.assign(face_points.size() * dim, 0.0);
}

template <int dim>
void FiniteVolumeSolver<dim>::set_initial_density(
    const std::function<double(const Point<dim> &)> &density) {
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
void FiniteVolumeSolver<dim>::update_cloud(const double *local_density) const {
  for (unsigned int c = 0; c < n_owned; ++c)
    kernel_cloud.weights[c] = local_density[c] * volume[c];
}

template <int dim>
double FiniteVolumeSolver<dim>::apply_operator(const PETScWrappers::MPI::Vector &density,
                                               PETScWrappers::MPI::Vector &result,
                                               const bool diagnostics) {
  ghosted = density; // copy and ghost exchange
  LocalForm local(ghosted);
  const double *r = local.data();

  // The kernel on the cloud {(cell centre, cell mass)}: f_μ, R, g, one all-reduce (M1–M3).
  update_cloud(r);
  const Objective::State state = objective.evaluate(owned_grid, kernel_cloud.weights);

  // Face velocities u_f = −∂_i F'(θ_f) (exact) or −(F'_R − F'_L)/|θ_R − θ_L| (discrete
  // gradient; on boundary faces the exact one), faces of direction i in one range.
  if (prm.face_velocity == "exact") {
    objective.first_variation(state, face_grid, face_values.data(), face_gradients.data());
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int f = first_face[i]; f < first_face[i + 1]; ++f)
        u[f] = -face_gradients[f * dim + i];
  } else {
    // F' at all local cells; in the first stage with its gradient too, which the diagnostics
    // reuse for the owned cells (one kernel pass instead of two).
    xi.resize(n_local);
    xi_gradients.resize(diagnostics ? n_local * dim : 0);
    objective.first_variation(state, local_grid, xi.data(),
                              diagnostics ? xi_gradients.data() : nullptr);
    objective.first_variation(state, boundary_grid, face_values.data(), face_gradients.data());
    unsigned int row = 0;
    for (unsigned int i = 0; i < dim; ++i) {
      for (unsigned int f = first_face[i]; f < first_boundary[i]; ++f) {
        const int a = face_left[f], b = face_right[f];
        u[f] = -(xi[b] - xi[a]) / (half_extent[a * dim + i] + half_extent[b * dim + i]);
      }
      for (unsigned int f = first_boundary[i]; f < first_face[i + 1]; ++f, ++row)
        u[f] = -face_gradients[row * dim + i];
    }
  }

  // Minmod slopes of the owned cells, then their ghost values.
  std::vector<const double *> slope(dim, zero_slopes.data());
  std::vector<std::unique_ptr<LocalForm>> slope_forms;
  if (prm.reconstruction == "minmod") {
    for (unsigned int i = 0; i < dim; ++i) {
      {
        OwnedValues s(slopes[i]);
        double *sigma = s.data();
        for (unsigned int c = 0; c < n_owned; ++c) {
          const int *nb = &neighbors[c * 2 * dim + 2 * i];
          const double *inv = &inverse_spacing[c * 2 * dim + 2 * i];
          // first order next to a boundary: inv = 0 there makes one difference, hence σ, zero
          const double down = (r[c] - r[std::max(nb[0], 0)]) * inv[0];
          const double up = (r[std::max(nb[1], 0)] - r[c]) * inv[1];
          sigma[c] = minmod(down, up);
        }
      }
      ghosted_slopes[i] = slopes[i];
      slope_forms.push_back(std::make_unique<LocalForm>(ghosted_slopes[i]));
      slope[i] = slope_forms.back()->data();
    }
  }

  // Upwind fluxes through every face, in the canonical +e_i orientation (MATH §4):
  // F_f = u⁺ ρ_L^f + u⁻ ρ_R^f, ρ_L^f = ρ_L + (h_L/2) σ_L, ρ_R^f = ρ_R − (h_R/2) σ_R, and
  // dρ_K/dt = ∓ F_f |f|/|K| = ∓ F_f / h_K (0 for ghosts: their owner updates them).
  double outflow_rate = 0.0;
  double *inc = increment.data();
  std::fill(increment.begin(), increment.end(), 0.0);
  const int *L = face_left.data(), *R = face_right.data();
  const double *half = half_extent.data(), *scale = update_factor.data();
  for (unsigned int i = 0; i < dim; ++i) {
    const double *sigma = slope[i];
    for (unsigned int f = first_face[i]; f < first_boundary[i]; ++f) {
      const int a = L[f], b = R[f];
      const double uf = u[f];
      const double flux = std::max(uf, 0.0) * (r[a] + half[a * dim + i] * sigma[a]) +
                          std::min(uf, 0.0) * (r[b] - half[b * dim + i] * sigma[b]);
      inc[a] -= flux * scale[a * dim + i];
      inc[b] += flux * scale[b * dim + i];
    }
    if (boundary[i] != BoundaryType::outflow)
      continue; // periodic (no boundary faces) or no-flux
    for (unsigned int f = first_boundary[i]; f < first_face[i + 1]; ++f) {
      // boundary faces belong to owned cells: |f| = |K|/h_K
      if (R[f] < 0) { // leaves through the upper boundary
        const int a = L[f];
        const double flux = std::max(u[f], 0.0) * r[a];
        inc[a] -= flux * scale[a * dim + i];
        outflow_rate += flux * volume[a] * scale[a * dim + i];
      } else { // leaves through the lower boundary
        const int b = R[f];
        const double flux = std::min(u[f], 0.0) * r[b];
        inc[b] += flux * scale[b * dim + i];
        outflow_rate -= flux * volume[b] * scale[b * dim + i];
      }
    }
  }
  {
    OwnedValues result_values(result);
    std::copy(increment.begin(), increment.begin() + n_owned, result_values.data());
  }

  // Diagnostics: the largest speed and the outgoing rate Σ_f max(u_out, 0)|f|/|K| of each cell.
  double max_speed = 0.0;
  std::vector<double> &out_rate = outgoing_rate; // a member: no allocation per stage
  if (diagnostics)
    std::fill(out_rate.begin(), out_rate.end(), 0.0);
  if (diagnostics)
    for (unsigned int i = 0; i < dim; ++i) {
      for (unsigned int f = first_face[i]; f < first_boundary[i]; ++f) {
        out_rate[L[f]] += std::max(u[f], 0.0) * scale[L[f] * dim + i];
        out_rate[R[f]] += std::max(-u[f], 0.0) * scale[R[f] * dim + i];
        max_speed = std::max(max_speed, std::abs(u[f]));
      }
      if (boundary[i] == BoundaryType::outflow)
        for (unsigned int f = first_boundary[i]; f < first_face[i + 1]; ++f) {
          if (R[f] < 0)
            out_rate[L[f]] += std::max(u[f], 0.0) * scale[L[f] * dim + i];
          else
            out_rate[R[f]] += std::max(-u[f], 0.0) * scale[R[f] * dim + i];
        }
    }

  if (diagnostics) {
    // F' and ∇F' at the owned cell centres: the output fields and ∫|∇F'|² dμ_h (M6).
    cell_first_variation.resize(n_owned);
    cell_velocity.resize(n_owned * dim);
    if (prm.face_velocity == "exact")
      objective.first_variation(state, owned_grid, cell_first_variation.data(),
                                cell_velocity.data());
    else { // the owned cells come first in the local order
      std::copy(xi.begin(), xi.begin() + n_owned, cell_first_variation.begin());
      std::copy(xi_gradients.begin(), xi_gradients.begin() + n_owned * dim, cell_velocity.begin());
    }
    double dissipation = 0.0, max_rate = 0.0, min_rho = std::numeric_limits<double>::max(),
           max_rho = std::numeric_limits<double>::lowest();
    for (unsigned int c = 0; c < n_owned; ++c) {
      double g2 = 0.0;
      for (unsigned int i = 0; i < dim; ++i) {
        g2 += cell_velocity[c * dim + i] * cell_velocity[c * dim + i];
        cell_velocity[c * dim + i] = -cell_velocity[c * dim + i];
      }
      dissipation += kernel_cloud.weights[c] * g2;
      max_rate = std::max(max_rate, out_rate[c]);
      min_rho = std::min(min_rho, r[c]);
      max_rho = std::max(max_rho, r[c]);
    }
    last.time = current_time;
    last.F = state.value();
    last.risk = state.risk;
    last.potential = state.potential;
    last.mass = state.mass;
    last.dissipation = Utilities::MPI::sum(dissipation, comm);
    last.min_density = Utilities::MPI::min(min_rho, comm);
    last.max_density = Utilities::MPI::max(max_rho, comm);
    last.max_speed = Utilities::MPI::max(max_speed, comm);
    last.outflow = Utilities::MPI::sum(outflow_local, comm);
    max_rate = Utilities::MPI::max(max_rate, comm);
    // dt = C / max_K Σ_f max(u_out, 0)|f|/|K|: at most the fraction C of a cell leaves per step
    last.stable_dt = max_rate > 0 ? prm.cfl / max_rate : std::numeric_limits<double>::infinity();
  }
  return outflow_rate;
}

template <int dim>
typename FiniteVolumeSolver<dim>::Diagnostics FiniteVolumeSolver<dim>::prepare_step() {
  const FlushSubnormals guard;
  outflow_rate0 = apply_operator(rho, rhs0, true);
  prepared = true;
  return last;
}

template <int dim>
void FiniteVolumeSolver<dim>::complete_step(const double dt) {
  const FlushSubnormals guard;
  Assert(prepared, ExcMessage("complete_step() needs prepare_step() first"));
  prepared = false;
  // Shu–Osher SSP Runge–Kutta; the outflow counter is integrated as one more component.
  const double outflow_start = outflow_local;
  // stage ← a ρⁿ + b (stage + dt L): the Shu–Osher combinations as plain loops over the owned
  // values (PETSc's VecAXPBY would wake the BLAS threads for every stage).
  auto combine = [&](const double a, const double b, const PETScWrappers::MPI::Vector &L) {
    OwnedValues out(stage);
    const double *r0 = nullptr, *l = nullptr;
    VecGetArrayRead(rho, &r0);
    VecGetArrayRead(L, &l);
    double *y = out.data();
    for (unsigned int c = 0; c < n_owned; ++c)
      y[c] = a * r0[c] + b * (y[c] + dt * l[c]);
    VecRestoreArrayRead(L, &l);
    VecRestoreArrayRead(rho, &r0);
  };
  stage = rho;
  combine(0.0, 1.0, rhs0); // ρ¹ = ρⁿ + dt L(ρⁿ)
  double outflow_stage = outflow_start + dt * outflow_rate0;
  if (prm.integrator == "ssp-rk2") {
    const double rate = apply_operator(stage, rhs, false);
    combine(0.5, 0.5, rhs); // ρⁿ⁺¹ = ½ρⁿ + ½(ρ¹ + dt L(ρ¹))
    outflow_stage = 0.5 * outflow_start + 0.5 * (outflow_stage + dt * rate);
  } else if (prm.integrator == "ssp-rk3") {
    double rate = apply_operator(stage, rhs, false);
    combine(0.75, 0.25, rhs); // ρ² = ¾ρⁿ + ¼(ρ¹ + dt L(ρ¹))
    outflow_stage = 0.75 * outflow_start + 0.25 * (outflow_stage + dt * rate);
    rate = apply_operator(stage, rhs, false);
    combine(1.0 / 3.0, 2.0 / 3.0, rhs); // ρⁿ⁺¹ = ⅓ρⁿ + ⅔(ρ² + dt L(ρ²))
    outflow_stage = outflow_start / 3.0 + 2.0 / 3.0 * (outflow_stage + dt * rate);
  }
  // Accept the step only if the new density is finite and non-negative.
  double local_min = std::numeric_limits<double>::max();
  bool finite = true;
  {
    OwnedValues values(stage);
    for (unsigned int c = 0; c < n_owned; ++c) {
      finite = finite && std::isfinite(values.data()[c]);
      local_min = std::min(local_min, values.data()[c]);
    }
  }
  finite = !Utilities::MPI::logical_or(!finite, comm);
  const double min_density = Utilities::MPI::min(local_min, comm);
  if (!finite || min_density < -1e-12 * std::max(last.max_density, 1.0)) {
    std::ostringstream message;
    message << "step " << n_steps + 1 << " from t = " << current_time << " with dt = " << dt
            << " produced " << (finite ? "a negative density (min " : "a NaN or infinite density")
            << (finite ? std::to_string(min_density) + ")" : "")
            << ". Lower Time stepping/CFL number (now " << prm.cfl << ")"
            << (prm.reconstruction == "minmod" ? " or use Reconstruction = first order" : "")
            << "; the state at t = " << current_time << " is kept.";
    throw RunError(message.str());
  }
  rho = stage;
  outflow_local = outflow_stage;
  current_time += dt;
  ++n_steps;
}

template <int dim>
double FiniteVolumeSolver<dim>::step(const double max_dt) {
  const Diagnostics d = prepare_step();
  const double dt = std::min(d.stable_dt, max_dt);
  complete_step(dt);
  return dt;
}

template <int dim>
double
FiniteVolumeSolver<dim>::l1_error(const std::function<double(const Point<dim> &)> &exact) const {
  const QGauss<dim> quadrature(prm.quadrature_points);
  const MappingQ1<dim> mapping; // FEValues keeps a pointer to it
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  ghosted = rho;
  LocalForm local(ghosted);
  std::vector<types::global_dof_index> index(1);
  const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
  double error = 0.0;
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned())
      continue;
    fe_values.reinit(cell);
    double integral = 0.0;
    for (unsigned int q = 0; q < quadrature.size(); ++q)
      integral += exact(fe_values.quadrature_point(q)) * fe_values.JxW(q);
    cell->get_dof_indices(index);
    error += std::abs(local.data()[index[0] - first] * cell->measure() - integral);
  }
  return Utilities::MPI::sum(error, comm);
}

template <int dim>
std::optional<double> FiniteVolumeSolver<dim>::exact_l1_error() const {
  const std::optional<AffineFlow> flow = problem.exact_flow(current_time, initial_mean);
  if (!flow)
    return std::nullopt;
  auto rho0 = [&](const double *theta) { // μ0 is the expression restricted to the box
    Point<dim> p;
    for (unsigned int i = 0; i < dim; ++i) {
      if (theta[i] < lower[i] || theta[i] > upper[i])
        return 0.0;
      p[i] = theta[i];
    }
    return initial_density(p) / initial_mass;
  };
  return l1_error([&](const Point<dim> &p) { return flow->density(rho0, &p[0]); });
}

template <int dim>
Point<dim> FiniteVolumeSolver<dim>::mean() const {
  ghosted = rho;
  LocalForm local(ghosted);
  update_cloud(local.data());
  std::vector<double> moments(dim + 1, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c) {
    moments[dim] += kernel_cloud.weights[c];
    for (unsigned int i = 0; i < dim; ++i)
      moments[i] += kernel_cloud.weights[c] * centres[c][i];
  }
  Utilities::MPI::sum(moments, comm, moments);
  Point<dim> m;
  for (unsigned int i = 0; i < dim; ++i)
    m[i] = moments[i] / moments[dim];
  return m;
}

template <int dim>
const WeightedCloud &FiniteVolumeSolver<dim>::cloud() const {
  ghosted = rho;
  LocalForm local(ghosted);
  update_cloud(local.data());
  return kernel_cloud;
}

template <int dim>
std::string FiniteVolumeSolver<dim>::write_vtu(const std::string &directory,
                                               const unsigned int index) const {
  ghosted = rho;
  // Cell fields from the last prepare_step(): F' and the velocity −∇F' at the cell centres.
  Vector<double> first_variation(mesh->n_active_cells()), rank(mesh->n_active_cells());
  PETScWrappers::MPI::Vector velocity(vector_dof_handler.locally_owned_dofs(), comm);
  std::vector<types::global_dof_index> index_scalar(1), index_vector(dim);
  const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
  auto vector_cell = vector_dof_handler.begin_active();
  for (auto cell = dof_handler.begin_active(); cell != dof_handler.end(); ++cell, ++vector_cell) {
    if (!cell->is_locally_owned())
      continue;
    cell->get_dof_indices(index_scalar);
    vector_cell->get_dof_indices(index_vector);
    const unsigned int c = index_scalar[0] - first;
    first_variation[cell->active_cell_index()] =
        c < cell_first_variation.size() ? cell_first_variation[c] : 0.0;
    rank[cell->active_cell_index()] = Utilities::MPI::this_mpi_process(comm);
    for (unsigned int i = 0; i < dim; ++i)
      velocity[index_vector[i]] =
          c < cell_first_variation.size() ? cell_velocity[c * dim + i] : 0.0;
  }
  velocity.compress(VectorOperation::insert);

  DataOut<dim> data_out;
  data_out.attach_triangulation(*mesh);
  data_out.add_data_vector(dof_handler, ghosted, "density");
  const std::vector<std::string> names(dim, "velocity");
  const std::vector<DataComponentInterpretation::DataComponentInterpretation> interpretation(
      dim, DataComponentInterpretation::component_is_part_of_vector);
  data_out.add_data_vector(vector_dof_handler, velocity, names, interpretation);
  data_out.add_data_vector(first_variation, "first_variation", DataOut<dim>::type_cell_data);
  data_out.add_data_vector(rank, "mpi_rank", DataOut<dim>::type_cell_data);
  data_out.build_patches();
  // deal.II compresses with zlib's best (slowest) level by default: seconds per frame at 64k cells
  DataOutBase::VtkFlags flags;
  flags.compression_level = DataOutBase::VtkFlags::best_speed;
  data_out.set_flags(flags);
  const std::string folder = directory + "/solution/";
  if (Utilities::MPI::this_mpi_process(comm) == 0)
    std::filesystem::create_directories(folder);
  MPI_Barrier(comm);
  return "solution/" + data_out.write_vtu_with_pvtu_record(folder, "solution", index, comm, 5);
}

template class FiniteVolumeSolver<1>;
template class FiniteVolumeSolver<2>;
template class FiniteVolumeSolver<3>;
} // namespace MeanField
