// Mesh refinement of FiniteVolumeSolver (doc/theory.md §4.1): the static refinement box, and
// the adaptive refinement that follows the mass (indicator, buffer, 2:1 balance, conservative
// and positive transfer, p4est repartitioning).
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>
#include <deal.II/distributed/solution_transfer.h>

#include <algorithm>
#include <cmath>

namespace MeanField {
using namespace dealii;

namespace {
/// Whether the cell's bounding box meets the box [lower, upper].
template <typename Cell>
bool meets_box(const Cell &cell, const std::vector<double> &lower, const std::vector<double> &upper,
               const unsigned int dim) {
  for (unsigned int i = 0; i < dim; ++i) {
    const double half = 0.5 * cell->extent_in_direction(i), c = cell->center()[i];
    if (c + half < lower[i] || c - half > upper[i])
      return false;
  }
  return true;
}
} // namespace

template <int dim>
void FiniteVolumeSolver<dim>::refine_box() {
  const RefinementParameters &r = prm.refinement;
  if constexpr (dim > 1) // p4est's repartitioning: a cell costs its centre and its faces
    mesh->signals.weight.connect([](const typename Triangulation<dim>::cell_iterator &cell,
                                    const typename Triangulation<dim>::CellStatus) -> unsigned int {
      unsigned int cost = 1;
      for (unsigned int f = 0; f < GeometryInfo<dim>::faces_per_cell; ++f)
        cost += !cell->at_boundary(f) && cell->neighbor(f)->has_children()
                    ? GeometryInfo<dim>::max_children_per_face
                    : 1;
      return cost;
    });
  for (unsigned int round = 0; round < r.box_levels; ++round) {
    for (const auto &cell : mesh->active_cell_iterators())
      if ((dim == 1 || cell->is_locally_owned()) && meets_box(cell, r.box_lower, r.box_upper, dim))
        cell->set_refine_flag();
    mesh->execute_coarsening_and_refinement();
  }
}

template <int dim>
std::vector<double> FiniteVolumeSolver<dim>::indicator_levels() {
  // The indicator η_K = max(m_K, max_L |ρ_K − ρ_L| |K|) against the thresholds (fractions of the
  // mass): the level each owned cell wants before the buffer (M9, doc/theory.md §4.1).
  const RefinementParameters &r = prm.refinement;
  const FaceTable<dim> &t = *faces;
  ghosted = rho;
  std::vector<double> density(t.n_local + 1, 0.0), jump(t.n_local + 1, 0.0);
  {
    const LocalForm local(ghosted);
    std::copy(local.data(), local.data() + t.n_local, density.begin());
  }
  double local_mass = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    local_mass += density[c] * t.volume[c];
  const double mass = Utilities::MPI::sum(local_mass, comm);
  for (std::size_t f = 0; f < t.n_faces(); ++f) {
    if (t.is_wall(f))
      continue;
    const unsigned int a = t.lower[f], b = t.upper[f];
    const double d = std::abs(density[a] - density[b]);
    jump[a] = std::max(jump[a], d * t.volume[a]);
    jump[b] = std::max(jump[b], d * t.volume[b]);
  }
  std::vector<double> want(t.n_local + 1, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c) {
    const double eta = std::max(density[c] * t.volume[c], jump[c]);
    const int level = t.level[c];
    want[c] = eta > r.refine_threshold * mass    ? level + 1
              : eta < r.coarsen_threshold * mass ? level - 1
                                                 : level;
  }
  return want;
}

template <int dim>
void FiniteVolumeSolver<dim>::spread_levels(std::vector<double> &want, const unsigned int rounds) {
  // the buffer: each round, a cell takes the largest level its face neighbours want
  const FaceTable<dim> &t = *faces;
  for (unsigned int round = 0; round < rounds; ++round) {
    {
      OwnedValues values(stage);
      std::copy(want.begin(), want.begin() + n_owned, values.data());
    }
    ghosted = stage;
    {
      const LocalForm local(ghosted);
      std::copy(local.data() + n_owned, local.data() + t.n_local, want.begin() + n_owned);
    }
    std::vector<double> next(want);
    for (std::size_t f = 0; f < t.n_faces(); ++f) {
      if (t.is_wall(f))
        continue;
      next[t.lower[f]] = std::max(next[t.lower[f]], want[t.upper[f]]);
      next[t.upper[f]] = std::max(next[t.upper[f]], want[t.lower[f]]);
    }
    want.swap(next);
  }
}

template <int dim>
std::vector<int> FiniteVolumeSolver<dim>::capped_levels(const std::vector<double> &want) const {
  // Maximum level, and the kink's cap (centred row: level-0 cells on the kink's row, one level
  // more per level-0 cell away from it)
  const RefinementParameters &r = prm.refinement;
  const FaceTable<dim> &t = *faces;
  std::vector<int> target(n_owned);
  const std::vector<Kink> kinks = the_problem.kinks();
  for (unsigned int c = 0; c < n_owned; ++c) {
    int cap = static_cast<int>(r.maximum_level);
    if (r.kink_treatment == KinkTreatment::centred_row)
      for (const Kink &kink : kinks) {
        const unsigned int i = kink.coordinate;
        const double away = std::abs(t.centre[i][c] - kink.value) - t.half_width[i][c];
        cap = std::min(cap, static_cast<int>(std::floor(away / h[i] + 0.5 + 1e-9)));
      }
    target[c] = std::clamp(static_cast<int>(want[c]), 0, std::max(cap, 0));
  }
  return target;
}

template <int dim>
std::pair<std::vector<int>, std::vector<int>> FiniteVolumeSolver<dim>::target_levels() {
  // the levels the mesh needs (the indicator and Buffer cells) and those a change gives it
  // (Buffer cells + Buffer reserve)
  const RefinementParameters &r = prm.refinement;
  std::vector<double> want = indicator_levels();
  spread_levels(want, r.buffer_cells(prm.cfl));
  std::vector<int> needed = capped_levels(want);
  spread_levels(want, r.reserve);
  return {std::move(needed), capped_levels(want)};
}

template <int dim>
bool FiniteVolumeSolver<dim>::adaptation_due() const {
  return prm.refinement.adaptive && n_steps > 0 && n_steps % prm.refinement.interval == 0 &&
         n_steps != adapted_at_step;
}

template <int dim>
bool FiniteVolumeSolver<dim>::adapt_mesh(const bool force) {
  if constexpr (dim == 1)
    throw InputError("Mesh/Refinement/Adaptive needs d >= 2.");
  else {
    const auto [needed, given] = target_levels();
    adapted_at_step = n_steps;
    if (!flag_cells(needed, given, force))
      return false; // the mesh holds the mass: keep it and its tables (no rebuild, no transfer)
    mesh->prepare_coarsening_and_refinement(); // 2:1 balance
    // DG(0) transfer: children keep the parent's average, a parent gets the mean of its
    // (equal) children, Σ|child| ρ_child / |parent|: mass conserved, positivity kept
    PETScWrappers::MPI::Vector old(owned, ghost, comm);
    old = rho;
    parallel::distributed::SolutionTransfer<dim, PETScWrappers::MPI::Vector> transfer(dof_handler);
    transfer.prepare_for_coarsening_and_refinement(old);
    mesh->execute_coarsening_and_refinement(); // and p4est's repartitioning
    set_up_system();
    transfer.interpolate(rho);
    ++n_adaptations;
    prepared = false;
    return true;
  }
}

template <int dim>
bool FiniteVolumeSolver<dim>::flag_cells(const std::vector<int> &needed,
                                         const std::vector<int> &given, const bool force) {
  // The flags of the levels `given` (the refinement box keeps its levels), set only when a cell
  // is below its `needed` level or enough cells would coarsen (Coarsen fraction), or, with
  // @p force, whenever any cell is flagged. Whether flags were set.
  const RefinementParameters &r = prm.refinement;
  std::vector<types::global_dof_index> index(1);
  const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
  std::vector<char> flag(n_owned, 0); // +1 refine, -1 coarsen
  unsigned int short_of = 0, refine = 0, coarsen = 0;
  std::vector<typename DoFHandler<dim>::active_cell_iterator> cells(n_owned);
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned())
      continue;
    cell->get_dof_indices(index);
    const unsigned int c = index[0] - first;
    cells[c] = cell;
    const int level = faces->level[c];
    const int floor = r.box_levels > 0 && meets_box(cell, r.box_lower, r.box_upper, dim)
                          ? static_cast<int>(r.box_levels)
                          : 0;
    short_of += std::max(needed[c], floor) > level;
    const int wanted = std::max(given[c], floor);
    flag[c] = wanted > level ? 1 : wanted < level ? -1 : 0;
    refine += flag[c] > 0, coarsen += flag[c] < 0;
  }
  const unsigned int total_short = Utilities::MPI::sum(short_of, comm);
  const unsigned int total_refine = Utilities::MPI::sum(refine, comm);
  const unsigned int total_coarsen = Utilities::MPI::sum(coarsen, comm);
  const bool change = total_short > 0 ||
                      (total_coarsen > 0 && total_coarsen >= r.coarsen_fraction * n_cells()) ||
                      (force && total_refine + total_coarsen > 0);
  for (unsigned int c = 0; change && c < n_owned; ++c) {
    if (flag[c] > 0)
      cells[c]->set_refine_flag();
    else if (flag[c] < 0)
      cells[c]->set_coarsen_flag();
  }
  return change;
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::refine_box();                                             \
  template std::vector<double> FiniteVolumeSolver<dim>::indicator_levels();                        \
  template void FiniteVolumeSolver<dim>::spread_levels(std::vector<double> &, unsigned int);       \
  template std::vector<int> FiniteVolumeSolver<dim>::capped_levels(const std::vector<double> &)    \
      const;                                                                                       \
  template std::pair<std::vector<int>, std::vector<int>> FiniteVolumeSolver<dim>::target_levels(); \
  template bool FiniteVolumeSolver<dim>::adaptation_due() const;                                   \
  template bool FiniteVolumeSolver<dim>::adapt_mesh(bool);                                         \
  template bool FiniteVolumeSolver<dim>::flag_cells(const std::vector<int> &,                      \
                                                    const std::vector<int> &, bool);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
