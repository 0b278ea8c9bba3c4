// The diagnostics of a prepared finite-volume state: F and its parts, the dissipation of the
// fluxes (M6h), the stationarity residual ‖∂_t ρ_h‖_L1, extrema and the CFL step.
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
using namespace dealii;

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
void FiniteVolumeSolver<dim>::update_diagnostics(const Objective::State &state,
                                                 const double *local_density, const double *rate,
                                                 const double outflow_dissipation) {
  const double *r = local_density;
  if (faces) {
    face_diagnostics(state, local_density, rate);
    return;
  }
  // The dissipation of the fluxes actually used (M6h); per owned cell the outgoing rate
  // Σ_f max(u_out, 0)|f|/|K| and the largest face speed. Unit-stride loops over the patch,
  // the owned cells selected by a 0/1 mask.
  const double *mask = owned_mask.data();
  if (langevin())
    langevin_diagnostics(state, local_density); // before the dissipation: F' at the centres
  double reaction_max_rate = 0.0;               // before the residual: c
  if (reactive())
    reaction_max_rate = reaction_diagnostics(state, local_density, nullptr);
  const double dissipation =
      langevin()
          ? sg_dissipation(xi.data())
          : face_dissipation(prm.reconstruction == Reconstruction::minmod) + outflow_dissipation;
  double max_rate = 0.0, max_speed = 0.0;
  std::array<const double *, dim> up, down;
  for (unsigned int i = 0; i < dim; ++i) {
    up[i] = dF[i].data();
    down[i] = dF[i].data() - patch_stride[i];
  }
#pragma omp simd reduction(max : max_rate, max_speed)
  for (std::size_t s = interior_begin; s < interior_end; ++s) {
    double out_rate = 0.0, speed = 0.0;
    for (unsigned int i = 0; i < dim; ++i) {
      const double a = up[i][s], b = down[i][s];
      out_rate += (std::max(-a, 0.0) + std::max(b, 0.0)) * inverse_h[i];
      speed = std::max(speed, std::max(std::abs(a), std::abs(b)));
    }
    max_rate = std::max(max_rate, mask[s] * out_rate);
    max_speed = std::max(max_speed, mask[s] * speed);
  }
  if (langevin()) // the Scharfetter–Gummel out-rate: CFL and diffusive limit h²/(2dτ) in one
    max_rate = sg_max_out_rate();
  max_rate = std::max(max_rate, reaction_max_rate);
  double residual = 0.0; // the stationarity residual Σ_K |K| |dρ_K/dt| (doc/theory.md (M9h))
  if (reactive()) {      // the reaction's rate too (M14, M15)
    for (unsigned int c = 0; c < n_owned; ++c)
      residual += std::abs(rate[c] + reaction_rate(c, r[c]));
  } else {
#pragma omp simd reduction(+ : residual)
    for (unsigned int c = 0; c < n_owned; ++c)
      residual += std::abs(rate[c]);
  }
  finish_diagnostics(state, r, dissipation, residual * cell_volume, max_speed, max_rate);
}

template <int dim>
void FiniteVolumeSolver<dim>::finish_diagnostics(const Objective::State &state,
                                                 const double *local_density,
                                                 const double dissipation, const double residual,
                                                 const double max_speed, double max_rate) {
  const double *r = local_density;
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
  last.cells = mesh->n_global_active_cells();
  last.finest_level = finest_level;
  // two reductions for all of them
  std::vector<double> sums{dissipation, outflow_local, wall_flux_local, residual},
      maxima{-min_rho, max_rho, max_speed, max_rate};
  Utilities::MPI::sum(sums, comm, sums);
  Utilities::MPI::max(maxima, comm, maxima);
  last.dissipation = sums[0];
  last.outflow = sums[1];
  last.wall_flux = sums[2];
  last.residual = sums[3];
  last.min_density = -maxima[0];
  last.max_density = maxima[1];
  last.max_speed = maxima[2];
  max_rate = maxima[3];
  // dt = C / max_K Σ_f max(u_out, 0)|f|/|K|: at most the fraction C of a cell leaves per step
  last.stable_dt = max_rate > 0 ? prm.cfl / max_rate : std::numeric_limits<double>::infinity();
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template double FiniteVolumeSolver<dim>::face_dissipation(bool) const;                           \
  template void FiniteVolumeSolver<dim>::update_diagnostics(                                       \
      const Objective::State &, const double *, const double *, double);                           \
  template void FiniteVolumeSolver<dim>::finish_diagnostics(                                       \
      const Objective::State &, const double *, double, double, double, double);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
