// The lattice, patch and face tables of FiniteVolumeSolver, built once (doc/theory.md §4): the
// stepping loops then run over flat arrays without a mesh iterator.
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/matrix_values.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/lac/dynamic_sparsity_pattern.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace MeanField {
using namespace dealii;

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
std::map<types::global_dof_index, int> FiniteVolumeSolver<dim>::local_indices() {
  // Where each ghost value sits in the local form: write every owned global index into the
  // vector, update the ghosts and read them back (independent of PETSc's ghost ordering).
  std::map<types::global_dof_index, int> local_of;
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
  return local_of;
}

template <int dim>
void FiniteVolumeSolver<dim>::build_lattice() {
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
}

namespace {
// Lattice arithmetic shared by the table builders: the same numbers on every rank.
template <int dim>
struct Lattice {
  const std::array<unsigned int, dim> &cells;
  const std::vector<double> &lower, &upper;
  const std::vector<BoundaryType> &boundary;
  const std::vector<Kink> &kinks;
  const std::array<double, dim> &h;

  /// The cell centre at index k. The mesh box puts every kink of V on a row of cell centres
  /// (PdeParameters::mesh_box); such a centre is the kink itself, not a round-off neighbour
  /// (the trapped mass has no drift).
  double centre(const unsigned int i, const long k) const {
    const double c = lower[i] + (upper[i] - lower[i]) * (k + 0.5) / cells[i];
    for (const Kink &kink : kinks)
      if (kink.coordinate == i && std::abs(c - kink.value) <= 1e-8 * h[i])
        return kink.value;
    return c;
  }
  /// The lower face of cell k.
  double face(const unsigned int i, const long k) const {
    return lower[i] + (upper[i] - lower[i]) * static_cast<double>(k) / cells[i];
  }
  /// k modulo N_i in periodic directions.
  long wrap(const unsigned int i, const long k) const {
    const long n = cells[i];
    return boundary[i] == BoundaryType::periodic ? ((k % n) + n) % n : k;
  }
  long key(const std::array<long, dim> &k) const {
    long key = 0;
    for (int i = dim - 1; i >= 0; --i)
      key = key * cells[i] + k[i];
    return key;
  }
};

/// Every local (owned or ghost) cell: its local index by lattice key, its global index, and
/// the lattice bounding box of the owned ones.
template <int dim>
struct LocalCells {
  std::unordered_map<long, int> at_key;
  std::vector<types::global_dof_index> global_of;
  std::array<long, dim> lowest, highest;
};

template <int dim>
LocalCells<dim> index_local_cells(const DoFHandler<dim> &dof_handler,
                                  const std::map<types::global_dof_index, int> &local_of,
                                  const Lattice<dim> &lattice, const unsigned int n_owned,
                                  const std::array<double, dim> &inverse_h) {
  LocalCells<dim> cells;
  cells.global_of.resize(local_of.size());
  cells.lowest.fill(std::numeric_limits<long>::max());
  cells.highest.fill(std::numeric_limits<long>::min());
  std::vector<types::global_dof_index> index(1);
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned() && !cell->is_ghost())
      continue;
    cell->get_dof_indices(index);
    const int c = local_of.at(index[0]);
    cells.global_of[c] = index[0];
    std::array<long, dim> k;
    const Point<dim> centre = cell->center();
    for (unsigned int i = 0; i < dim; ++i) {
      k[i] = static_cast<long>(std::floor((centre[i] - lattice.lower[i]) * inverse_h[i]));
      AssertThrow(std::abs(cell->extent_in_direction(i) - lattice.h[i]) < 1e-8 * lattice.h[i],
                  ExcMessage("the finite-volume mesh must be a uniform box"));
      if (c < static_cast<int>(n_owned)) {
        cells.lowest[i] = std::min(cells.lowest[i], k[i]);
        cells.highest[i] = std::max(cells.highest[i], k[i]);
      }
    }
    cells.at_key[lattice.key(k)] = c;
  }
  return cells;
}

/// Maximal runs of consecutive slots of consecutive owned cells: {first slot, first cell, length}.
std::vector<std::array<unsigned int, 3>> contiguous_runs(const std::vector<unsigned int> &slot) {
  std::vector<std::array<unsigned int, 3>> runs;
  for (unsigned int c = 0; c < slot.size(); ++c)
    if (c > 0 && slot[c] == slot[c - 1] + 1)
      ++runs.back()[2];
    else
      runs.push_back({{slot[c], c, 1}});
  return runs;
}
} // namespace

template <int dim>
void FiniteVolumeSolver<dim>::build_slots(const std::map<types::global_dof_index, int> &local_of) {
  const std::vector<Kink> kinks = the_problem.kinks();
  const Lattice<dim> lattice{lattice_cells, lower, upper, boundary, kinks, h};
  const LocalCells<dim> cells =
      index_local_cells<dim>(dof_handler, local_of, lattice, n_owned, inverse_h);
  const auto &[cell_at, global_of, lowest, highest] = cells;

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
  slot_cell.assign(patch_size, numbers::invalid_dof_index);
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
      k[i] = lattice.wrap(i, g[i]);
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
    const auto found = cell_at.find(lattice.key(k));
    if (found == cell_at.end())
      continue; // inside the box, but neither owned nor ghost: never read
    const int c = found->second;
    slot_cell[s] = global_of[c];
    if (c >= static_cast<int>(n_owned) || !primary) {
      halo.push_back({{static_cast<unsigned int>(s), static_cast<unsigned int>(c)}});
      continue;
    }
    owned_slot[c] = s;
    // its faces on non-periodic sides of the box
    for (unsigned int i = 0; i < dim; ++i) {
      if (boundary[i] == BoundaryType::periodic)
        continue;
      for (const bool up : {false, true}) {
        if (k[i] != (up ? static_cast<long>(lattice_cells[i]) - 1 : 0))
          continue;
        boundary_faces.push_back({static_cast<unsigned int>(up ? s : s - patch_stride[i]), i, up,
                                  boundary[i] == BoundaryType::outflow,
                                  static_cast<unsigned int>(c)});
        std::array<double, dim> point;
        for (unsigned int j = 0; j < dim; ++j)
          point[j] = j == i ? (up ? upper[i] : lower[i]) : lattice.centre(j, k[j]);
        boundary_points.push_back(point.data());
      }
    }
  }
  owned_runs = contiguous_runs(owned_slot);
}

template <int dim>
void FiniteVolumeSolver<dim>::build_kernel_grids() {
  // The kernel's view: cell centres and each direction's upper face centres as tensor
  // products over the patch. Periodic coordinates are wrapped into the box, so two ranks
  // evaluate the same face (and a face on the periodic boundary) at the same point.
  const std::vector<Kink> kinks = the_problem.kinks();
  const Lattice<dim> lattice{lattice_cells, lower, upper, boundary, kinks, h};
  std::vector<std::vector<double>> centre_axes(dim);
  for (unsigned int i = 0; i < dim; ++i)
    for (unsigned int a = 0; a < patch_cells[i]; ++a)
      centre_axes[i].push_back(
          lattice.centre(i, lattice.wrap(i, patch_first[i] + static_cast<long>(a))));
  centre_grid = GridPointSet::tensor_product(centre_axes);
  for (unsigned int i = 0; i < dim; ++i) {
    std::vector<std::vector<double>> axes = centre_axes;
    for (unsigned int a = 0; a < patch_cells[i]; ++a)
      axes[i][a] = lattice.face(i, lattice.wrap(i, patch_first[i] + static_cast<long>(a) + 1));
    face_grid[i] = GridPointSet::tensor_product(std::move(axes));
  }

  centres = PointSet(dim, n_owned);
  for (unsigned int c = 0; c < n_owned; ++c)
    for (unsigned int i = 0; i < dim; ++i)
      centres[c][i] = centre_axes[i][(owned_slot[c] / patch_stride[i]) % patch_cells[i]];
  kernel_cloud = WeightedCloud(dim);
  kernel_cloud.points = centres;
  kernel_cloud.weights.assign(n_owned, 0.0);
}

template <int dim>
void FiniteVolumeSolver<dim>::build_transport_sparsity() {
  // The DG(0) flux sparsity of (M10): each owned cell's row holds the cell and its face
  // neighbours (periodic ones included). Every entry lies in an owned row.
  constexpr unsigned int R = 2 * dim + 1;
  DynamicSparsityPattern pattern(dof_handler.n_dofs(), dof_handler.n_dofs(), owned);
  std::vector<PetscInt> rows, columns;
  for (unsigned int c = 0; c < n_owned; ++c) {
    const std::size_t s = owned_slot[c];
    for (unsigned int k = 0; k < R; ++k) {
      const unsigned int i = k / 2;
      const auto column = k == 2 * dim
                              ? slot_cell[s]
                              : slot_cell[k % 2 == 0 ? s + patch_stride[i] : s - patch_stride[i]];
      rows.push_back(static_cast<PetscInt>(slot_cell[s]));
      columns.push_back(static_cast<PetscInt>(column));
      if (column != numbers::invalid_dof_index)
        pattern.add(slot_cell[s], column);
    }
  }
  transport.reinit(owned, owned, pattern, comm);
  // the places of the existing entries; -1 for the neighbours behind a wall
  std::vector<PetscInt> existing_rows, existing_columns;
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (columns[k] != static_cast<PetscInt>(numbers::invalid_dof_index)) {
      existing_rows.push_back(rows[k]);
      existing_columns.push_back(columns[k]);
    }
  const std::vector<PetscInt> places =
      MatrixValues::locate(transport, existing_rows, existing_columns);
  row_place.assign(rows.size(), -1);
  for (std::size_t k = 0, e = 0; k < rows.size(); ++k)
    if (columns[k] != static_cast<PetscInt>(numbers::invalid_dof_index))
      row_place[k] = places[e++];
}

template <int dim>
void FiniteVolumeSolver<dim>::build_tables() {
  const std::map<types::global_dof_index, int> local_of = local_indices();
  if (prm.refinement.face_path()) {
    build_face_tables(local_of);
    return;
  }
  faces.reset();
  build_lattice();
  build_slots(local_of);
  build_kernel_grids();
  for (auto *v : {&P, &W, &xi, &scratch, &increment, &owned_mask})
    v->assign(patch_size, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c)
    owned_mask[owned_slot[c]] = 1.0;
  for (unsigned int i = 0; i < dim; ++i) {
    dF[i].assign(patch_size, 0.0);
    sigma[i].assign(prm.reconstruction == Reconstruction::minmod ? patch_size : 0, 0.0);
    sg_lower[i].assign(langevin() ? patch_size : 0, 0.0);
    sg_upper[i].assign(langevin() ? patch_size : 0, 0.0);
  }
  boundary_values.assign(boundary_faces.size(), 0.0);
  boundary_gradients.assign(boundary_faces.size() * dim, 0.0);
}

// (FiniteVolumeSolver<dim> itself is instantiated in finite_volume.cc; each file of its
// implementation instantiates the members it defines.)
#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::number_cells_lexicographically();                         \
  template std::map<types::global_dof_index, int> FiniteVolumeSolver<dim>::local_indices();        \
  template void FiniteVolumeSolver<dim>::build_lattice();                                          \
  template void FiniteVolumeSolver<dim>::build_slots(                                              \
      const std::map<types::global_dof_index, int> &);                                             \
  template void FiniteVolumeSolver<dim>::build_kernel_grids();                                     \
  template void FiniteVolumeSolver<dim>::build_transport_sparsity();                               \
  template void FiniteVolumeSolver<dim>::build_tables();
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
