// The spatial operator of FiniteVolumeSolver: L(ρ) of the upwind finite-volume scheme (M9) as a
// function of the density, and its linearization with the face velocities frozen (M10).
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/matrix_values.h>
#include <meanfield/pde/vector_access.h>

#include <petscmat.h>

#include <algorithm>
#include <optional>

namespace MeanField {
using namespace dealii;

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
  // cells (the pde/ files are compiled without FMA contraction), so it cancels exactly in the
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
double FiniteVolumeSolver<dim>::apply_operator(const PETScWrappers::MPI::Vector &density,
                                               PETScWrappers::MPI::Vector &result,
                                               Objective::State &state) {
  // The density on the patch (ghost values exchanged only when there are ghosts); the
  // kernel's weights are the owned cells' masses.
  const bool has_ghosts = ghost.n_elements() > 0;
  std::optional<LocalForm> local;
  std::optional<OwnedValuesRead> owned_only;
  if (has_ghosts) {
    ghosted = density; // copy and ghost exchange
    local.emplace(ghosted);
  } else
    owned_only.emplace(density);
  const double *local_density = has_ghosts ? local->data() : owned_only->data();
  if (faces)
    return apply_face_operator(local_density, result, state);
  load_patch(local_density);

  // The kernel on the cloud {(cell centre, cell mass)}: f_μ, R, g, one all-reduce (M1–M3).
  state = objective.evaluate(centre_grid, W);
  const bool exact = prm.face_velocity == FaceVelocity::exact;
  compute_face_derivatives(state, exact);
  apply_walls(state, exact);
  const bool minmod_slopes = prm.reconstruction == Reconstruction::minmod;
  if (langevin()) {
    compute_sg_coefficients();
    compute_sg_increment();
  } else {
    if (minmod_slopes)
      compute_slopes(has_ghosts);
    compute_increment(minmod_slopes);
  }
  {
    OwnedValues result_values(result);
    for (const auto &[slot, first, length] : owned_runs)
      std::copy(increment.data() + slot, increment.data() + slot + length,
                result_values.data() + first);
  }
  return outflow_rate(outflow_dissipation_local);
}

template <int dim>
const PETScWrappers::MPI::SparseMatrix &
FiniteVolumeSolver<dim>::assemble_transport_matrix(const double dt) {
  // Row K of I/dt + A (M10), first-order upwind fluxes with the prepared face velocities
  // u = −∂_i F': the upper face (velocity u_a) puts u_a⁺/h_i on the diagonal and u_a⁻/h_i ≤ 0 on
  // the upper neighbour, the lower face (u_b) −u_b⁻/h_i on the diagonal and −u_b⁺/h_i ≤ 0 on
  // the lower neighbour. Beyond an outflow wall the outside is empty (no column); a no-flux
  // wall has u = 0. Every column sums to 1/dt plus what leaves through outflow faces.
  // Langevin (τ > 0): the same pattern with the Scharfetter–Gummel coefficients, the flux
  // through a face a ρ_L − b ρ_R (a = sg_lower, b = sg_upper; upwind: a = u⁺, b = −u⁻).
  Assert(prepared, ExcMessage("assemble_transport_matrix() needs prepare_step() first"));
  if (faces) {
    assemble_face_matrix(dt);
    return transport;
  }
  // straight into the rank's value arrays (MatrixValues): a periodic direction of one or two
  // cells repeats a place, and its contributions add up
  constexpr unsigned int R = 2 * dim + 1;
  {
    MatrixValues::Writer values(transport);
    for (unsigned int c = 0; c < n_owned; ++c) {
      const std::size_t s = owned_slot[c];
      const PetscInt *place = &row_place[c * R];
      double diagonal = 1.0 / dt;
      for (unsigned int i = 0; i < dim; ++i) {
        const std::size_t below = s - patch_stride[i];
        double a_above, b_above, a_below, b_below;
        if (langevin()) {
          a_above = sg_lower[i][s], b_above = sg_upper[i][s];
          a_below = sg_lower[i][below], b_below = sg_upper[i][below];
        } else {
          a_above = std::max(-dF[i][s], 0.0), b_above = std::max(dF[i][s], 0.0);
          a_below = std::max(-dF[i][below], 0.0), b_below = std::max(dF[i][below], 0.0);
        }
        diagonal += (a_above + b_below) * inverse_h[i];
        if (place[2 * i] >= 0)
          values[place[2 * i]] -= b_above * inverse_h[i];
        if (place[2 * i + 1] >= 0)
          values[place[2 * i + 1]] -= a_below * inverse_h[i];
      }
      values[place[2 * dim]] += diagonal;
    }
  }
  return transport;
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::load_patch(const double *);                               \
  template void FiniteVolumeSolver<dim>::compute_face_derivatives(const Objective::State &, bool); \
  template void FiniteVolumeSolver<dim>::apply_walls(const Objective::State &, bool);              \
  template void FiniteVolumeSolver<dim>::compute_slopes(bool);                                     \
  template void FiniteVolumeSolver<dim>::compute_increment(bool);                                  \
  template double FiniteVolumeSolver<dim>::outflow_rate(double &) const;                           \
  template double FiniteVolumeSolver<dim>::apply_operator(                                         \
      const PETScWrappers::MPI::Vector &, PETScWrappers::MPI::Vector &, Objective::State &);       \
  template const PETScWrappers::MPI::SparseMatrix &                                                \
  FiniteVolumeSolver<dim>::assemble_transport_matrix(double);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
