#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/io/checked_file.h>
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

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>

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

// The stencil loops run over blocks of 4096 slots (32 kB per array), all directions of a block
// in turn, so that the block's increment stays in cache. (Threading these ~10 µs loops with TBB
// was measured slower on 2 cores: run one MPI rank per core instead.)
constexpr std::size_t slot_block_size = 4096;

// The upwind flux through a face in its +e_i orientation, velocity u = −dF (dF = ∂_i F' at the
// face) and face values ρ_L (lower cell) and ρ_R (upper cell): u⁺ ρ_L + u⁻ ρ_R.
inline double upwind_flux(const double dF, const double rho_left, const double rho_right) {
  return -(std::min(dF, 0.0) * rho_left + std::max(dF, 0.0) * rho_right);
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
template <typename Function>
void FiniteVolumeSolver<dim>::for_each_slot_block(const Function &f) const {
  if (interior_end <= interior_begin)
    return;
  for (std::size_t begin = interior_begin; begin < interior_end; begin += slot_block_size)
    f(begin, std::min(begin + slot_block_size, interior_end));
}

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

  dof_handler.reinit(*mesh);
  dof_handler.distribute_dofs(fe);
  number_cells_lexicographically();
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
void FiniteVolumeSolver<dim>::number_cells_lexicographically() {
  // Within this rank's range, number the owned cells in lattice order (axis 0 fastest), the
  // order of the patch: the copies between the PETSc vectors and the patch become runs of
  // consecutive values.
  const IndexSet owned_before = dof_handler.locally_owned_dofs();
  std::vector<std::pair<long, types::global_dof_index>> order; // (lattice key, index)
  std::vector<types::global_dof_index> index(1);
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned())
      continue;
    long key = 0;
    for (int i = dim - 1; i >= 0; --i) {
      const unsigned int repetitions =
          prm.subdivisions.size() == 1 ? prm.subdivisions[0] : prm.subdivisions[i];
      const long n = static_cast<long>(repetitions) << prm.refinements;
      const double h_i = (upper[i] - lower[i]) / n;
      key = key * n + static_cast<long>(std::floor((cell->center()[i] - lower[i]) / h_i));
    }
    cell->get_dof_indices(index);
    order.emplace_back(key, index[0]);
  }
  std::sort(order.begin(), order.end());
  std::vector<types::global_dof_index> new_numbers(owned_before.n_elements());
  for (std::size_t n = 0; n < order.size(); ++n)
    new_numbers[owned_before.index_within_set(order[n].second)] = owned_before.nth_index_in_set(n);
  dof_handler.renumber_dofs(new_numbers);
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

  // The lattice: the box cut into N_i equal cells (subdivisions × 2^refinements).
  cell_volume = 1.0;
  for (unsigned int i = 0; i < dim; ++i) {
    const unsigned int repetitions =
        prm.subdivisions.size() == 1 ? prm.subdivisions[0] : prm.subdivisions[i];
    lattice_cells[i] = repetitions << prm.refinements;
    h[i] = (upper[i] - lower[i]) / lattice_cells[i];
    inverse_h[i] = 1.0 / h[i];
    cell_volume *= h[i];
  }
  h_min = *std::min_element(h.begin(), h.end());
  // Lattice coordinates of the cell centre at index k, of the lower face of cell k, and the
  // index k modulo N_i in periodic directions: the same numbers on every rank.
  // The mesh box puts every kink of V on a row of cell centres (PdeParameters::mesh_box); such
  // a centre is the kink itself, not a round-off neighbour (the trapped mass has no drift).
  const std::vector<Kink> kinks = the_problem.kinks();
  auto centre_at = [&](const unsigned int i, const long k) {
    const double c = lower[i] + (upper[i] - lower[i]) * (k + 0.5) / lattice_cells[i];
    for (const Kink &kink : kinks)
      if (kink.coordinate == i && std::abs(c - kink.value) <= 1e-8 * h[i])
        return kink.value;
    return c;
  };
  auto face_at = [&](const unsigned int i, const long k) {
    return lower[i] + (upper[i] - lower[i]) * static_cast<double>(k) / lattice_cells[i];
  };
  auto wrap = [&](const unsigned int i, const long k) {
    const long n = lattice_cells[i];
    return boundary[i] == BoundaryType::periodic ? ((k % n) + n) % n : k;
  };
  auto key_of = [&](const std::array<long, dim> &k) {
    long key = 0;
    for (int i = dim - 1; i >= 0; --i)
      key = key * lattice_cells[i] + k[i];
    return key;
  };

  // Every local cell's lattice index; the owned ones' bounding box.
  std::unordered_map<long, int> cell_at;
  std::array<long, dim> lowest, highest;
  lowest.fill(std::numeric_limits<long>::max());
  highest.fill(std::numeric_limits<long>::min());
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned() && !cell->is_ghost())
      continue;
    std::vector<types::global_dof_index> index(1);
    cell->get_dof_indices(index);
    const int c = local_of.at(index[0]);
    std::array<long, dim> k;
    const Point<dim> centre = cell->center();
    for (unsigned int i = 0; i < dim; ++i) {
      k[i] = static_cast<long>(std::floor((centre[i] - lower[i]) * inverse_h[i]));
      AssertThrow(std::abs(cell->extent_in_direction(i) - h[i]) < 1e-8 * h[i],
                  ExcMessage("the finite-volume mesh must be a uniform box"));
      if (c < static_cast<int>(n_owned)) {
        lowest[i] = std::min(lowest[i], k[i]);
        highest[i] = std::max(highest[i], k[i]);
      }
    }
    cell_at[key_of(k)] = c;
  }

  // The patch: the bounding box, one layer wider on each side (empty without owned cells).
  patch_size = n_owned > 0 ? 1 : 0;
  for (unsigned int i = 0; i < dim; ++i) {
    patch_first[i] = n_owned > 0 ? lowest[i] - 1 : 0;
    patch_cells[i] = n_owned > 0 ? highest[i] - lowest[i] + 3 : 0;
    patch_stride[i] = i == 0 ? 1 : patch_stride[i - 1] * patch_cells[i - 1];
    patch_size *= patch_cells[i];
  }
  interior_begin = std::min(patch_stride[dim - 1], patch_size);
  interior_end = patch_size - interior_begin;

  // Slots → cells: each owned cell at its own slot; ghosts and periodic copies in `halo`.
  owned_slot.assign(n_owned, 0);
  halo.clear();
  for (unsigned int i = 0; i < dim; ++i)
    slope_factor[i].assign(patch_size, 0.0);
  boundary_faces.clear();
  boundary_points = PointSet(dim);
  for (std::size_t s = 0; s < patch_size; ++s) {
    std::array<long, dim> g, k;
    bool inside = true, primary = true;
    for (unsigned int i = 0; i < dim; ++i) {
      g[i] = patch_first[i] + static_cast<long>((s / patch_stride[i]) % patch_cells[i]);
      k[i] = wrap(i, g[i]);
      inside = inside && k[i] >= 0 && k[i] < static_cast<long>(lattice_cells[i]);
      primary = primary && k[i] == g[i];
    }
    if (!inside)
      continue;
    // first order next to a wall (no-flux or outflow): the slope there is zero
    for (unsigned int i = 0; i < dim; ++i) {
      const bool wall = boundary[i] != BoundaryType::periodic &&
                        (k[i] == 0 || k[i] == static_cast<long>(lattice_cells[i]) - 1);
      slope_factor[i][s] = wall ? 0.0 : inverse_h[i];
    }
    const auto found = cell_at.find(key_of(k));
    if (found == cell_at.end())
      continue; // inside the box, but neither owned nor ghost: never read
    const int c = found->second;
    if (c < static_cast<int>(n_owned) && primary) {
      owned_slot[c] = s;
      // its faces on non-periodic sides of the box
      for (unsigned int i = 0; i < dim; ++i) {
        if (boundary[i] == BoundaryType::periodic)
          continue;
        for (const bool up : {false, true}) {
          if (k[i] != (up ? static_cast<long>(lattice_cells[i]) - 1 : 0))
            continue;
          boundary_faces.push_back({static_cast<unsigned int>(up ? s : s - patch_stride[i]), i, up,
                                    boundary[i] == BoundaryType::outflow});
          std::array<double, dim> point;
          for (unsigned int j = 0; j < dim; ++j)
            point[j] = j == i ? (up ? upper[i] : lower[i]) : centre_at(j, k[j]);
          boundary_points.push_back(point.data());
        }
      }
    } else
      halo.push_back({{static_cast<unsigned int>(s), static_cast<unsigned int>(c)}});
  }

  // The kernel's view: cell centres and each direction's upper face centres as tensor
  // products over the patch. Periodic coordinates are wrapped into the box, so two ranks
  // evaluate the same face (and a face on the periodic boundary) at the same point.
  std::vector<std::vector<double>> centre_axes(dim);
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int a = 0; a < patch_cells[i]; ++a)
      centre_axes[i].push_back(centre_at(i, wrap(i, patch_first[i] + static_cast<long>(a))));
  centre_grid = GridPointSet::tensor_product(centre_axes);
  for (unsigned int i = 0; i < dim; ++i) {
    std::vector<std::vector<double>> axes = centre_axes;
    for (unsigned int a = 0; a < patch_cells[i]; ++a)
      axes[i][a] = face_at(i, wrap(i, patch_first[i] + static_cast<long>(a) + 1));
    face_grid[i] = GridPointSet::tensor_product(std::move(axes));
  }

  centres = PointSet(dim, n_owned);
  for (unsigned int c = 0; c < n_owned; ++c)
    for (unsigned int i = 0; i < dim; ++i)
      centres[c][i] = centre_axes[i][(owned_slot[c] / patch_stride[i]) % patch_cells[i]];
  kernel_cloud = WeightedCloud(dim);
  kernel_cloud.points = centres;
  kernel_cloud.weights.assign(n_owned, 0.0);

  for (auto *v : {&P, &W, &xi, &scratch, &increment, &owned_mask})
    v->assign(patch_size, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c)
    owned_mask[owned_slot[c]] = 1.0;
  owned_runs.clear();
  for (unsigned int c = 0; c < n_owned; ++c)
    if (c > 0 && owned_slot[c] == owned_slot[c - 1] + 1)
      ++owned_runs.back()[2];
    else
      owned_runs.push_back({{owned_slot[c], c, 1}});
  for (unsigned int i = 0; i < dim; ++i) {
    dF[i].assign(patch_size, 0.0);
    sigma[i].assign(prm.reconstruction == "minmod" ? patch_size : 0, 0.0);
  }
  boundary_values.assign(boundary_faces.size(), 0.0);
  boundary_gradients.assign(boundary_faces.size() * dim, 0.0);
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
    kernel_cloud.weights[c] = local_density[c] * cell_volume;
}

template <int dim>
double FiniteVolumeSolver<dim>::face_dissipation(const bool minmod_slopes) const {
  // The fluxes again, once per step (the diagnostics stage): compute_increment() sums them in
  // thread blocks; a dim-pass loop here costs far less than the ∇F' pass it replaced.
  // D_h = Σ_f |K| F_f u_f over the upper faces of the owned cells (M6h), F_f the upwind flux of
  // the operator, u_f = −∂_i F' its face velocity: every term ≥ 0, zero on walls and wherever
  // the upwind side is empty — mass held in a cell by inward face velocities dissipates nothing.
  double dissipation = 0.0;
  const double *mask = owned_mask.data(), *p = P.data();
  for (unsigned int i = 0; i < dim; ++i) {
    const std::size_t st = patch_stride[i];
    const double *g = dF[i].data(), half = 0.5 * h[i];
    const double *sg = minmod_slopes ? sigma[i].data() : nullptr;
#pragma omp simd reduction(+ : dissipation)
    for (std::size_t s = interior_begin; s < interior_end; ++s) {
      const double left = minmod_slopes ? p[s] + half * sg[s] : p[s];
      const double right = minmod_slopes ? p[s + st] - half * sg[s + st] : p[s + st];
      dissipation -= mask[s] * upwind_flux(g[s], left, right) * g[s];
    }
  }
  return dissipation * cell_volume;
}

template <int dim>
void FiniteVolumeSolver<dim>::load_patch(const double *local_density) {
  for (const auto &[slot, first, length] : owned_runs) {
    double *p = P.data() + slot, *w = W.data() + slot;
    const double *values = local_density + first;
    for (unsigned int n = 0; n < length; ++n) {
      p[n] = values[n];
      w[n] = values[n] * cell_volume;
    }
  }
  for (const auto &[s, c] : halo)
    P[s] = local_density[c];
}

template <int dim>
void FiniteVolumeSolver<dim>::compute_face_derivatives(const Objective::State &state,
                                                       const bool exact) {
  // ∂_i F' at the upper face of every slot, the face velocity being u_i = −∂_i F': exact
  // (one gradient column on the face grid) or the discrete gradient (F'(θ_{s+e_i}) −
  // F'(θ_s))/h_i of F' at the centres.
  if (exact)
    for (unsigned int i = 0; i < dim; ++i)
      objective.partial_derivative(state, face_grid[i], i, dF[i].data());
  else {
    objective.first_variation(state, centre_grid, xi.data(), nullptr);
    const double *values = xi.data();
    for (unsigned int i = 0; i < dim; ++i) {
      double *g = dF[i].data();
      const double *x = values, *x_next = values + patch_stride[i], scale = inverse_h[i];
      for (std::size_t s = 0; s + patch_stride[i] < patch_size; ++s)
        g[s] = scale * (x_next[s] - x[s]);
    }
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::apply_walls(const Objective::State &state, const bool exact) {
  // On the box's walls: no flux, or (outflow) the exact velocity.
  if (!exact && !boundary_faces.empty())
    objective.first_variation(state, boundary_points, boundary_values.data(),
                              boundary_gradients.data());
  wall_flux_local = 0.0;
  for (std::size_t b = 0; b < boundary_faces.size(); ++b) {
    const BoundaryFace &face = boundary_faces[b];
    double &g = dF[face.direction][face.slot];
    const double wall_dF = exact ? g : boundary_gradients[b * dim + face.direction];
    if (!face.outflow) {
      // what the wall stops: the outward upwind flux of the cell inside (a diagnostic)
      const std::size_t st = patch_stride[face.direction];
      const double outward = face.upper ? -wall_dF : wall_dF;
      wall_flux_local += std::max(outward, 0.0) * P[face.upper ? face.slot : face.slot + st] *
                         cell_volume * inverse_h[face.direction];
      g = 0.0;
    } else
      g = wall_dF;
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::compute_slopes(const bool has_ghosts) {
  // Minmod slopes σ_i (zero next to walls and outside the box), then those of the halo:
  // periodic copies from their owned cell, ghosts from their owner rank.
  for_each_slot_block([&](const std::size_t begin, const std::size_t end) {
    for (unsigned int i = 0; i < dim; ++i) {
      const std::size_t st = patch_stride[i];
      const double *p = P.data(), *factor = slope_factor[i].data();
      double *sg = sigma[i].data();
      for (std::size_t s = begin; s < end; ++s)
        sg[s] = minmod(p[s] - p[s - st], p[s + st] - p[s]) * factor[s];
    }
  });
  for (unsigned int i = 0; i < dim; ++i) {
    double *sg = sigma[i].data();
    if (!has_ghosts) {
      for (const auto &[s, c] : halo)
        sg[s] = sg[owned_slot[c]];
      continue;
    }
    {
      OwnedValues owned_slopes(slopes[i]);
      for (unsigned int c = 0; c < n_owned; ++c)
        owned_slopes.data()[c] = sg[owned_slot[c]];
    }
    ghosted_slopes[i] = slopes[i];
    LocalForm local_slopes(ghosted_slopes[i]);
    for (const auto &[s, c] : halo)
      sg[s] = local_slopes.data()[c];
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::compute_increment(const bool minmod_slopes) {
  // dρ_s/dt = Σ_i (F_i(lower face) − F_i(upper face)) / h_i with the upwind flux in the +e_i
  // orientation (doc/theory.md §4), u = −∂_i F':
  //   F = u⁺ ρ_L^f + u⁻ ρ_R^f,  ρ_L^f = ρ_s + (h_i/2) σ_s,  ρ_R^f = ρ_{s+e_i} − (h_i/2) σ_{s+e_i}.
  // One fused pass per direction; a face's flux is the same expression for both of its
  // cells (this file is compiled without FMA contraction), so it cancels exactly in the
  // total mass.
  double *inc = increment.data();
  for_each_slot_block([&](const std::size_t begin, const std::size_t end) {
    for (unsigned int i = 0; i < dim; ++i) {
      const std::size_t st = patch_stride[i];
      const double *g = dF[i].data(), *p = P.data(), scale = inverse_h[i], half = 0.5 * h[i];
      const bool first = i == 0;
      if (minmod_slopes) {
        const double *sg = sigma[i].data();
        for (std::size_t s = begin; s < end; ++s) {
          const double below =
              upwind_flux(g[s - st], p[s - st] + half * sg[s - st], p[s] - half * sg[s]);
          const double above =
              upwind_flux(g[s], p[s] + half * sg[s], p[s + st] - half * sg[s + st]);
          inc[s] = (first ? 0.0 : inc[s]) + (below - above) * scale;
        }
      } else
        for (std::size_t s = begin; s < end; ++s) {
          const double below = upwind_flux(g[s - st], p[s - st], p[s]);
          const double above = upwind_flux(g[s], p[s], p[s + st]);
          inc[s] = (first ? 0.0 : inc[s]) + (below - above) * scale;
        }
    }
  });
}

template <int dim>
double FiniteVolumeSolver<dim>::outflow_rate(double &outflow_dissipation) const {
  // What leaves through outflow walls: the outward flux times |f| = |K|/h_i (the slope of a
  // cell at a wall is zero, and the outside is empty).
  double rate = 0.0;
  outflow_dissipation = 0.0;
  for (const BoundaryFace &face : boundary_faces)
    if (face.outflow) {
      const std::size_t s = face.slot, st = patch_stride[face.direction];
      const double flux = upwind_flux(dF[face.direction][s], P[s], P[s + st]);
      rate += (face.upper ? flux : -flux) * cell_volume * inverse_h[face.direction];
      if (!face.upper) // the lower wall's face belongs to a halo slot: not in face_dissipation()
        outflow_dissipation -= flux * dF[face.direction][s] * cell_volume;
    }

  return rate;
}

template <int dim>
void FiniteVolumeSolver<dim>::update_diagnostics(const Objective::State &state,
                                                 const double *local_density,
                                                 const bool minmod_slopes,
                                                 const double outflow_dissipation) {
  const double *r = local_density;
  // The dissipation of the fluxes actually used (M6h); per owned cell the outgoing rate
  // Σ_f max(u_out, 0)|f|/|K| and the largest face speed. Unit-stride loops over the patch,
  // the owned cells selected by a 0/1 mask.
  const double *mask = owned_mask.data();
  const double dissipation = face_dissipation(minmod_slopes) + outflow_dissipation;
  double max_rate = 0.0, max_speed = 0.0;
  std::array<const double *, dim> up, down;
  for (unsigned int i = 0; i < dim; ++i) {
    up[i] = dF[i].data();
    down[i] = dF[i].data() - patch_stride[i];
  }
#pragma omp simd reduction(max : max_rate, max_speed)
  for (std::size_t s = interior_begin; s < interior_end; ++s) {
    double rate = 0.0, speed = 0.0;
    for (unsigned int i = 0; i < dim; ++i) {
      const double a = up[i][s], b = down[i][s];
      rate += (std::max(-a, 0.0) + std::max(b, 0.0)) * inverse_h[i];
      speed = std::max(speed, std::max(std::abs(a), std::abs(b)));
    }
    max_rate = std::max(max_rate, mask[s] * rate);
    max_speed = std::max(max_speed, mask[s] * speed);
  }
  double min_rho = std::numeric_limits<double>::max(),
         max_rho = std::numeric_limits<double>::lowest();
#pragma omp simd reduction(min : min_rho) reduction(max : max_rho)
  for (unsigned int c = 0; c < n_owned; ++c) {
    min_rho = std::min(min_rho, r[c]);
    max_rho = std::max(max_rho, r[c]);
  }
  last_state = state;
  last.time = current_time;
  last.F = state.value();
  last.risk = state.risk;
  last.potential = state.potential;
  last.mass = state.mass;
  // two reductions for all of them
  std::vector<double> sums{dissipation, outflow_local, wall_flux_local},
      maxima{-min_rho, max_rho, max_speed, max_rate};
  Utilities::MPI::sum(sums, comm, sums);
  Utilities::MPI::max(maxima, comm, maxima);
  last.dissipation = sums[0];
  last.outflow = sums[1];
  last.wall_flux = sums[2];
  last.min_density = -maxima[0];
  last.max_density = maxima[1];
  last.max_speed = maxima[2];
  max_rate = maxima[3];
  // dt = C / max_K Σ_f max(u_out, 0)|f|/|K|: at most the fraction C of a cell leaves per step
  last.stable_dt = max_rate > 0 ? prm.cfl / max_rate : std::numeric_limits<double>::infinity();
}

template <int dim>
double FiniteVolumeSolver<dim>::apply_operator(const PETScWrappers::MPI::Vector &density,
                                               PETScWrappers::MPI::Vector &result,
                                               const bool diagnostics) {
  // The density on the patch (ghost values exchanged only when there are ghosts); the
  // kernel's weights are the owned cells' masses.
  const bool has_ghosts = ghost.n_elements() > 0;
  std::optional<LocalForm> local;
  const double *r = nullptr;
  if (has_ghosts) {
    ghosted = density; // copy and ghost exchange
    local.emplace(ghosted);
    r = local->data();
  } else
    VecGetArrayRead(density, &r);
  load_patch(r);

  // The kernel on the cloud {(cell centre, cell mass)}: f_μ, R, g, one all-reduce (M1–M3).
  const Objective::State state = objective.evaluate(centre_grid, W);
  const bool exact = prm.face_velocity == "exact";
  compute_face_derivatives(state, exact);
  apply_walls(state, exact);
  const bool minmod_slopes = prm.reconstruction == "minmod";
  if (minmod_slopes)
    compute_slopes(has_ghosts);
  compute_increment(minmod_slopes);
  {
    OwnedValues result_values(result);
    for (const auto &[slot, first, length] : owned_runs)
      std::copy(increment.data() + slot, increment.data() + slot + length,
                result_values.data() + first);
  }
  double outflow_dissipation = 0.0;
  const double outflow = outflow_rate(outflow_dissipation);
  if (diagnostics)
    update_diagnostics(state, r, minmod_slopes, outflow_dissipation);
  if (!has_ghosts)
    VecRestoreArrayRead(density, &r);
  return outflow;
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
  double local_min = std::numeric_limits<double>::max(), nan_probe = 0.0;
  {
    OwnedValues values(stage);
    const double *v = values.data();
#pragma omp simd reduction(min : local_min) reduction(+ : nan_probe)
    for (unsigned int c = 0; c < n_owned; ++c) {
      local_min = std::min(local_min, v[c]);
      nan_probe += v[c] - v[c]; // 0, or NaN for a NaN or an infinity
    }
  }
  std::vector<double> maxima{-local_min, std::isnan(nan_probe) ? 1.0 : 0.0};
  Utilities::MPI::max(maxima, comm, maxima); // one reduction
  const bool finite = maxima[1] == 0.0;
  const double min_density = -maxima[0];
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
  const std::optional<AffineFlow> flow = the_problem.exact_flow(current_time, initial_mean);
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
  std::vector<double> centre_values(n_owned), centre_gradients(n_owned * dim);
  if (n_owned > 0)
    objective.first_variation(last_state, centres, centre_values.data(), centre_gradients.data());
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
    first_variation[cell->active_cell_index()] = centre_values[c];
    rank[cell->active_cell_index()] = Utilities::MPI::this_mpi_process(comm);
    for (unsigned int i = 0; i < dim; ++i)
      velocity[index_vector[i]] = -centre_gradients[c * dim + i];
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
  const unsigned int my_rank = Utilities::MPI::this_mpi_process(comm);
  std::error_code code;
  if (my_rank == 0)
    std::filesystem::create_directories(folder, code);
  throw_if_any_failed(code ? folder + ": " + code.message() : "",
                      "Could not write the solution: ", comm);
  // each rank its piece, then rank 0 the record naming them: written and checked by us (a full
  // disk must not leave a cut frame behind, nor a record naming one)
  const std::string stem = "solution_" + Utilities::int_to_string(index, 5);
  const std::string piece_error =
      write_file(folder + stem + "." + Utilities::int_to_string(my_rank) + ".vtu",
                 [&](std::ostream &out) { data_out.write_vtu(out); });
  throw_if_any_failed(piece_error, "Could not write the solution: ", comm);
  std::string error;
  if (my_rank == 0) {
    std::vector<std::string> pieces;
    for (unsigned int r = 0; r < Utilities::MPI::n_mpi_processes(comm); ++r)
      pieces.push_back(stem + "." + Utilities::int_to_string(r) + ".vtu");
    error = write_file(folder + stem + ".pvtu",
                       [&](std::ostream &out) { data_out.write_pvtu_record(out, pieces); });
  }
  throw_if_any_failed(error, "Could not write the solution: ", comm);
  return "solution/" + stem + ".pvtu";
}

template class FiniteVolumeSolver<1>;
template class FiniteVolumeSolver<2>;
template class FiniteVolumeSolver<3>;
} // namespace MeanField
