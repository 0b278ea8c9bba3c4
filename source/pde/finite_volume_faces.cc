// The finite-volume operator of FiniteVolumeSolver on the face table of a locally refined mesh
// (M9 on 2:1-balanced meshes with hanging faces, doc/theory.md §4.1): the same upwind flux as the
// lattice (upwind_flux()), per-cell volumes and face areas, minmod slopes with the true centre
// distances, the CFL step per cell, and the frozen-velocity matrix (M10) on the same faces.
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/matrix_values.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::build_face_tables(
    const std::map<types::global_dof_index, int> &local_of) {
  build_lattice(); // h of level 0
  faces = std::make_unique<FaceTable<dim>>(build_face_table<dim>(
      dof_handler, local_of, n_owned, lower, upper, boundary, the_problem.kinks(),
      prm.refinement.kink_treatment, h, prm.refinements));
  const FaceTable<dim> &t = *faces;
  const unsigned int n = t.n_local + 1;
  face_rho.assign(n, 0.0);
  face_mass_rate.assign(n, 0.0);
  face_out_rate.assign(n, 0.0);
  face_xi.assign(t.n_local, 0.0);
  cell_masses.assign(n_owned, 0.0);
  face_dF.assign(t.n_faces(), 0.0);
  face_flux.assign(t.n_faces(), 0.0);
  face_sg_lower.assign(langevin() ? t.n_faces() : 0, 0.0);
  face_sg_upper.assign(langevin() ? t.n_faces() : 0, 0.0);
  for (unsigned int i = 0; i < dim; ++i)
    face_sigma[i].assign(n, 0.0);
  face_slope_sums.assign(2 * dim * n_owned, 0.0);
  face_out_lower.assign(t.n_faces(), 0.0);
  face_out_upper.assign(t.n_faces(), 0.0);
  for (unsigned int i = 0; i < dim; ++i) {
    face_upper_trace[i].assign(n, 0.0);
    face_lower_trace[i].assign(n, 0.0);
  }
  const unsigned int finest = Utilities::MPI::max(static_cast<unsigned int>(t.finest_level), comm);
  h_min = *std::min_element(h.begin(), h.end()) / double(1u << finest);
  finest_level = finest;
  centres = PointSet(dim, n_owned);
  for (unsigned int c = 0; c < n_owned; ++c)
    for (unsigned int i = 0; i < dim; ++i)
      centres[c][i] = t.centre[i][c];
  kernel_cloud = WeightedCloud(dim);
  kernel_cloud.points = centres;
  kernel_cloud.weights.assign(n_owned, 0.0);
}

template <int dim>
void FiniteVolumeSolver<dim>::face_velocities(const Objective::State &state, const bool exact) {
  // ∂_i F' at every face (u_f = −∂_i F' along +e_i): exact at the face centres, or the discrete
  // gradient (F'(θ_b) − F'(θ_a))/δ_f of F' at the centres of the two cells (walls: exact).
  const FaceTable<dim> &t = *faces;
  for (unsigned int i = 0; i < dim; ++i)
    if (t.direction_begin[i + 1] > t.direction_begin[i])
      objective.partial_derivative(state, t.face_points[i], i,
                                   face_dF.data() + t.direction_begin[i]);
  if (!exact) {
    if (t.n_local > 0)
      objective.first_variation(state, t.local_centres, face_xi.data(), nullptr);
    for (std::size_t f = 0; f < t.n_faces(); ++f)
      if (!t.is_wall(f))
        face_dF[f] = (face_xi[t.upper[f]] - face_xi[t.lower[f]]) / t.distance[f];
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::face_no_flux_walls() {
  // no-flux walls: zero velocity, counting the outward flux they stop (a diagnostic)
  const FaceTable<dim> &t = *faces;
  wall_flux_local = 0.0;
  for (const unsigned int f : t.walls)
    if (t.no_flux[f]) {
      const bool up = t.upper[f] == t.outside();
      const double outward = up ? -face_dF[f] : face_dF[f];
      wall_flux_local +=
          std::max(outward, 0.0) * face_rho[up ? t.lower[f] : t.upper[f]] * t.area[f];
      face_dF[f] = 0.0;
    }
}

template <int dim>
void FiniteVolumeSolver<dim>::face_slopes(const bool has_ghosts) {
  // Minmod slopes with the true centre distances (M9d): per owned cell and direction, the
  // area-weighted mean density of its lower and upper face neighbours at their mean centre
  // distance; zero next to a wall. The ghosts' slopes come from their owners.
  const FaceTable<dim> &t = *faces;
  const CellSides &sides = t.sides;
  const double *rho = face_rho.data();
  double *mean = face_slope_sums.data(); // side k of cell c at k n_owned + c
  for (unsigned int k = 0; k < 2 * dim; ++k) {
    const unsigned int *neighbour = sides.neighbour[k].data();
    const double *weight = sides.weight[k].data();
    double *m = mean + k * n_owned;
#pragma omp simd
    for (unsigned int c = 0; c < n_owned; ++c)
      m[c] = weight[c] * rho[neighbour[c]];
  }
  for (const CellSides::Extra &e : sides.extra)
    mean[e.side * n_owned + e.cell] += e.weight * rho[e.neighbour];
  for (unsigned int i = 0; i < dim; ++i) {
    double *sg = face_sigma[i].data();
    const double *down = mean + 2 * i * n_owned, *up = down + n_owned;
    const double *k_down = sides.inverse_distance[2 * i].data();
    const double *k_up = sides.inverse_distance[2 * i + 1].data();
    const unsigned char *wall = t.wall[i].data();
#pragma omp simd
    for (unsigned int c = 0; c < n_owned; ++c) {
      const double slope = minmod((rho[c] - down[c]) * k_down[c], (up[c] - rho[c]) * k_up[c]);
      sg[c] = wall[c] ? 0.0 : slope; // (a side without neighbours has k = 0: slope 0)
    }
    if (has_ghosts)
      exchange_face_slopes(i);
  }
  face_traces();
}

template <int dim>
void FiniteVolumeSolver<dim>::exchange_face_slopes(const unsigned int i) {
  const FaceTable<dim> &t = *faces;
  double *sg = face_sigma[i].data();
  {
    OwnedValues owned_slopes(slopes[i]);
    std::copy(sg, sg + n_owned, owned_slopes.data());
  }
  ghosted_slopes[i] = slopes[i];
  LocalForm local_slopes(ghosted_slopes[i]);
  std::copy(local_slopes.data() + n_owned, local_slopes.data() + t.n_local, sg + n_owned);
}

template <int dim>
void FiniteVolumeSolver<dim>::face_traces() {
  // the reconstructed values ρ_K ± h_K,i/2 σ_K,i at the upper and lower faces of every local
  // cell (the outside: 0)
  const unsigned int n = faces->n_local + 1;
  const double *rho = face_rho.data();
  for (unsigned int i = 0; i < dim; ++i) {
    const double *hw = faces->half_width[i].data(), *sg = face_sigma[i].data();
    double *up = face_upper_trace[i].data(), *down = face_lower_trace[i].data();
#pragma omp simd
    for (unsigned int c = 0; c < n; ++c) {
      up[c] = rho[c] + hw[c] * sg[c];
      down[c] = rho[c] - hw[c] * sg[c];
    }
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::face_increment(const bool minmod_slopes) {
  // Each face one flux F_f = upwind(u_f; ρ_a^f, ρ_b^f) through |f|, out of its lower cell a and
  // into its upper cell b (M9): the masses it moves cancel exactly in the total.
  const FaceTable<dim> &t = *faces;
  const unsigned int *lower = t.lower.data(), *upper = t.upper.data();
  const double *rho = face_rho.data(), *g = face_dF.data(), *area = t.area.data();
  double *flux = face_flux.data();
  if (langevin()) { // the Scharfetter–Gummel flux (M13), first order by construction
    const double *a = face_sg_lower.data(), *b = face_sg_upper.data();
#pragma omp simd
    for (std::size_t f = 0; f < t.n_faces(); ++f)
      flux[f] = area[f] * (a[f] * rho[lower[f]] - b[f] * rho[upper[f]]);
  } else
    for (unsigned int i = 0; i < dim; ++i) { // the lower cell's upper trace, the upper's lower
      const double *left = minmod_slopes ? face_upper_trace[i].data() : rho;
      const double *right = minmod_slopes ? face_lower_trace[i].data() : rho;
      const std::size_t slots = t.direction_begin[i], others = slots + n_owned;
      const double *gs = g + slots, *as = area + slots;
      const unsigned int *us = upper + slots;
      double *fs = flux + slots;
#pragma omp simd
      for (unsigned int c = 0; c < n_owned; ++c) // slot c: the upper face of cell c
        fs[c] = as[c] * upwind_flux(gs[c], left[c], right[us[c]]);
      for (std::size_t f = others; f < t.direction_begin[i + 1]; ++f)
        flux[f] = area[f] * upwind_flux(g[f], left[lower[f]], right[upper[f]]);
    }
  gather_face_sums(flux, flux, face_mass_rate.data(), -1.0);
  double outflow = 0.0; // what the outside gains through outflow walls
  for (const unsigned int f : t.walls)
    outflow += upper[f] == t.outside() ? flux[f] : -flux[f];
  face_mass_rate[t.outside()] = outflow;
}

template <int dim>
void FiniteVolumeSolver<dim>::gather_face_sums(const double *below, const double *above,
                                               double *sums, const double above_sign) const {
  // per owned cell Σ_i below[f_i−(c)] + above_sign·above[f_i+(c)] over the faces of its lower
  // and upper sides (the first upper face is the cell's slot)
  const CellSides &sides = faces->sides;
  std::fill(sums, sums + n_owned, 0.0);
  for (unsigned int i = 0; i < dim; ++i) {
    const unsigned int *lower_side = sides.face[2 * i].data();
    const double *slot = above + faces->direction_begin[i];
#pragma omp simd
    for (unsigned int c = 0; c < n_owned; ++c)
      sums[c] += below[lower_side[c]] + above_sign * slot[c];
  }
  for (const CellSides::Extra &e : sides.extra)
    sums[e.cell] += e.side % 2 == 0 ? below[e.face] : above_sign * above[e.face];
}

template <int dim>
double FiniteVolumeSolver<dim>::apply_face_operator(const double *local_density,
                                                    PETScWrappers::MPI::Vector &result,
                                                    Objective::State &state) {
  const FaceTable<dim> &t = *faces;
  std::copy(local_density, local_density + t.n_local, face_rho.begin());
  face_rho[t.outside()] = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    cell_masses[c] = local_density[c] * t.volume[c];
  // the kernel on {(cell centre, cell mass)} (M1–M3), one all-reduce
  state = objective.evaluate(t.owned_centres, cell_masses);
  face_velocities(state, prm.face_velocity == FaceVelocity::exact);
  if (langevin())
    face_sg_coefficients();
  else
    face_no_flux_walls();
  const bool minmod_slopes = prm.reconstruction == Reconstruction::minmod;
  if (minmod_slopes)
    face_slopes(ghost.n_elements() > 0);
  face_increment(minmod_slopes);
  {
    OwnedValues values(result);
    for (unsigned int c = 0; c < n_owned; ++c)
      values.data()[c] = face_mass_rate[c] / t.volume[c];
  }
  outflow_dissipation_local = 0.0; // (in face_diagnostics(): walls are faces of the table)
  return face_mass_rate[t.outside()];
}

template <int dim>
void FiniteVolumeSolver<dim>::face_diagnostics(const Objective::State &state,
                                               const double *local_density, const double *rate) {
  // (M6h) over the counted faces, D_h = Σ_f |f| δ_f F_f u_f (|f| δ_f: the face's share of the
  // volume), or the Scharfetter–Gummel dissipation; per owned cell the outgoing rate
  // Σ_f (coefficient of the cell in the face's flux)|f|/|K| (upwind: max(u_out, 0)); the largest
  // speed.
  const FaceTable<dim> &t = *faces;
  const std::size_t n_faces = t.n_faces();
  const double *g = face_dF.data(), *area = t.area.data(), *flux = face_flux.data();
  const double *distance = t.distance.data();
  const unsigned char *counted = t.counted.data();
  double dissipation = 0.0, max_speed = 0.0, max_rate = 0.0;
  double *out_of_lower = face_out_lower.data(), *out_of_upper = face_out_upper.data();
  if (langevin()) {
    face_langevin_diagnostics(state); // F' at the centres first
    dissipation = face_sg_dissipation();
    const double *a = face_sg_lower.data(), *b = face_sg_upper.data();
#pragma omp simd
    for (std::size_t f = 0; f < n_faces; ++f)
      out_of_lower[f] = a[f] * area[f], out_of_upper[f] = b[f] * area[f];
  } else {
#pragma omp simd reduction(+ : dissipation)
    for (std::size_t f = 0; f < n_faces; ++f) {
      dissipation -= counted[f] ? flux[f] * g[f] * distance[f] : 0.0; // (flux holds F_f |f|)
      out_of_lower[f] = std::max(-g[f], 0.0) * area[f];
      out_of_upper[f] = std::max(g[f], 0.0) * area[f];
    }
  }
#pragma omp simd reduction(max : max_speed)
  for (std::size_t f = 0; f < n_faces; ++f)
    max_speed = std::max(max_speed, std::abs(g[f]));
  // a cell is the upper cell of the faces of its lower sides, the lower cell of the others
  gather_face_sums(out_of_upper, out_of_lower, face_out_rate.data(), 1.0);
  if (reactive())
    max_rate = reaction_diagnostics(state, local_density, t.volume.data());
  double residual = 0.0; // with the reaction's rate (0 without one)
  for (unsigned int c = 0; c < n_owned; ++c) {
    max_rate = std::max(max_rate, face_out_rate[c] / t.volume[c]);
    residual += std::abs(rate[c] + reaction_rate(c, local_density[c])) * t.volume[c];
  }
  finish_diagnostics(state, local_density, dissipation, residual, max_speed, max_rate);
}

template <int dim>
void FiniteVolumeSolver<dim>::build_face_sparsity() {
  // The DG(0) flux sparsity on the face table: each face couples its two cells; the rows of
  // owned cells only. Four places per face: (a,a), (a,b), (b,a), (b,b); -1 where the row is not
  // owned or a cell is the outside.
  const FaceTable<dim> &t = *faces;
  // the global index of each local cell (local_indices() inverted)
  std::vector<types::global_dof_index> global(t.n_local);
  for (const auto &[index, c] : local_indices())
    global[c] = index;
  DynamicSparsityPattern pattern(dof_handler.n_dofs(), dof_handler.n_dofs(), owned);
  std::vector<PetscInt> rows, columns;
  std::vector<int> slot(4 * t.n_faces(), -1);
  for (unsigned int c = 0; c < n_owned; ++c) {
    pattern.add(global[c], global[c]);
    rows.push_back(global[c]), columns.push_back(global[c]);
  }
  for (std::size_t f = 0; f < t.n_faces(); ++f) {
    const unsigned int cells[2] = {t.lower[f], t.upper[f]};
    for (unsigned int r = 0; r < 2; ++r)
      for (unsigned int k = 0; k < 2; ++k) {
        const unsigned int row = cells[r], column = cells[k];
        if (row >= n_owned || column == t.outside())
          continue;
        pattern.add(global[row], global[column]);
        slot[4 * f + 2 * r + k] = static_cast<int>(rows.size());
        rows.push_back(global[row]), columns.push_back(global[column]);
      }
  }
  transport.reinit(owned, owned, pattern, comm);
  const std::vector<PetscInt> places = MatrixValues::locate(transport, rows, columns);
  face_place.assign(4 * t.n_faces(), -1);
  for (std::size_t k = 0; k < face_place.size(); ++k)
    if (slot[k] >= 0)
      face_place[k] = places[slot[k]];
  diagonal_place.assign(places.begin(), places.begin() + n_owned);
}

template <int dim>
void FiniteVolumeSolver<dim>::assemble_face_matrix(const double dt) {
  // I/dt + A of (M10) on the faces: the flux a_f ρ_a − b_f ρ_b through |f| (upwind a_f = u⁺,
  // b_f = −u⁻ with u = −∂F'; Langevin: the Scharfetter–Gummel coefficients), leaving a and
  // entering b. Non-negative diagonal, non-positive off-diagonal entries;
  // every column sums to 1/dt plus what leaves through outflow faces.
  const FaceTable<dim> &t = *faces;
  MatrixValues::Writer values(transport);
  for (unsigned int c = 0; c < n_owned; ++c)
    values[diagonal_place[c]] += 1.0 / dt;
  for (std::size_t f = 0; f < t.n_faces(); ++f) {
    const auto [out_of_a, out_of_b] = face_coefficients(f);
    const unsigned int a = t.lower[f], b = t.upper[f];
    const PetscInt *place = &face_place[4 * f];
    if (place[0] >= 0) // row a: what a loses, what b gives it
      values[place[0]] += out_of_a * t.area[f] / t.volume[a];
    if (place[1] >= 0)
      values[place[1]] -= out_of_b * t.area[f] / t.volume[a];
    if (place[2] >= 0) // row b
      values[place[2]] -= out_of_a * t.area[f] / t.volume[b];
    if (place[3] >= 0)
      values[place[3]] += out_of_b * t.area[f] / t.volume[b];
  }
}

template <int dim>
double FiniteVolumeSolver<dim>::face_outflow_rate(const double *owned_density) const {
  // what leaves through the outflow walls at the frozen velocities (M10)
  const FaceTable<dim> &t = *faces;
  double rate = 0.0;
  for (std::size_t f = 0; f < t.n_faces(); ++f)
    if (t.outflow[f]) {
      const bool up = t.upper[f] == t.outside();
      const double inside = owned_density[up ? t.lower[f] : t.upper[f]];
      const double flux = upwind_flux(face_dF[f], up ? inside : 0.0, up ? 0.0 : inside);
      rate += (up ? flux : -flux) * t.area[f];
    }
  return rate;
}

template <int dim>
double FiniteVolumeSolver<dim>::face_velocity_displacement(const double dt) const {
  // dt max_f |u_f(ρⁿ⁺¹) − u_f(ρⁿ)| / δ_f (M10a)
  const FaceTable<dim> &t = *faces;
  double change = 0.0;
  for (std::size_t f = 0; f < t.n_faces(); ++f)
    change = std::max(change, std::abs(face_dF[f] - face_dF_frozen[f]) / t.distance[f]);
  return Utilities::MPI::max(std::max(change * dt, frozen_reaction_change(dt)), comm);
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::build_face_tables(                                        \
      const std::map<types::global_dof_index, int> &);                                             \
  template void FiniteVolumeSolver<dim>::face_velocities(const Objective::State &, bool);          \
  template void FiniteVolumeSolver<dim>::face_no_flux_walls();                                     \
  template void FiniteVolumeSolver<dim>::face_slopes(bool);                                        \
  template void FiniteVolumeSolver<dim>::exchange_face_slopes(unsigned int);                       \
  template void FiniteVolumeSolver<dim>::face_traces();                                            \
  template void FiniteVolumeSolver<dim>::gather_face_sums(const double *, const double *,          \
                                                          double *, double) const;                 \
  template void FiniteVolumeSolver<dim>::face_increment(bool);                                     \
  template double FiniteVolumeSolver<dim>::apply_face_operator(                                    \
      const double *, PETScWrappers::MPI::Vector &, Objective::State &);                           \
  template void FiniteVolumeSolver<dim>::face_diagnostics(const Objective::State &,                \
                                                          const double *, const double *);         \
  template void FiniteVolumeSolver<dim>::build_face_sparsity();                                    \
  template void FiniteVolumeSolver<dim>::assemble_face_matrix(double);                             \
  template double FiniteVolumeSolver<dim>::face_outflow_rate(const double *) const;                \
  template double FiniteVolumeSolver<dim>::face_velocity_displacement(double) const;
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
