// The mean-field Langevin operator of FiniteVolumeSolver (τ > 0): the Scharfetter–Gummel flux
// (M13) on every face, its dissipation and the free-energy diagnostics (doc/theory.md §7).
#include <meanfield/pde/bernoulli.h>
#include <meanfield/pde/finite_volume.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::compute_sg_coefficients() {
  // F_f = (τ/h)(B(x) ρ_L − B(−x) ρ_R), x = h ∂_i F'(θ_f)/τ the jump of F'/τ across the face
  // (exact face derivative, or the difference of F' at the centres): sg_lower = (τ/h) B(x),
  // sg_upper = (τ/h) B(−x). At τ → 0 this is the upwind flux with u = −∂_i F' (M13).
  const double tau = prm.dynamics.temperature;
  for (unsigned int i = 0; i < dim; ++i) {
    const double *g = dF[i].data(), to_x = h[i] / tau, scale = tau * inverse_h[i];
    double *lower_c = sg_lower[i].data(), *upper_c = sg_upper[i].data();
    for (std::size_t s = 0; s < patch_size; ++s) {
      double b_plus = 0.0, b_minus = 0.0;
      bernoulli_pair(to_x * g[s], b_plus, b_minus);
      lower_c[s] = scale * b_plus;
      upper_c[s] = scale * b_minus;
    }
  }
  // No-flux walls: no flux at all (the diffusion included); what they stop is the outward
  // flux against an empty outside (a diagnostic, like the upwind wall flux).
  wall_flux_local = 0.0;
  for (const BoundaryFace &face : boundary_faces) {
    const std::size_t s = face.slot, st = patch_stride[face.direction];
    double &lower_c = sg_lower[face.direction][s], &upper_c = sg_upper[face.direction][s];
    const double outward = face.upper ? lower_c * P[s] : upper_c * P[s + st];
    wall_flux_local += outward * cell_volume * inverse_h[face.direction];
    lower_c = 0.0;
    upper_c = 0.0;
  }
}

template <int dim>
void FiniteVolumeSolver<dim>::compute_sg_increment() {
  // dρ_s/dt = Σ_i (F_i(lower face) − F_i(upper face)) / h_i, one fused pass per direction; a
  // face's flux is the same expression for both of its cells (conservative to round-off).
  double *inc = increment.data();
  for_each_slot_block([&](const std::size_t begin, const std::size_t end) {
    for (unsigned int i = 0; i < dim; ++i) {
      const std::size_t st = patch_stride[i];
      const double *a = sg_lower[i].data(), *b = sg_upper[i].data(), *p = P.data(),
                   scale = inverse_h[i];
      const bool first = i == 0;
      for (std::size_t s = begin; s < end; ++s) {
        const double below = a[s - st] * p[s - st] - b[s - st] * p[s];
        const double above = a[s] * p[s] - b[s] * p[s + st];
        inc[s] = (first ? 0.0 : inc[s]) + (below - above) * scale;
      }
    }
  });
}

template <int dim>
double FiniteVolumeSolver<dim>::sg_dissipation(const double *potential) const {
  // D = −Σ_f |K| F_f (μ_R − μ_L)/h over the owned cells' upper faces, μ = F' + τ log ρ at the
  // centres: exactly −dF_τ/dt of the semi-discrete scheme (summation by parts), ≥ 0 face by face
  // when x is the jump of F' between the centres.
  const double tau = prm.dynamics.temperature;
  const double *mask = owned_mask.data(), *p = P.data();
  double dissipation = 0.0;
  for (unsigned int i = 0; i < dim; ++i) {
    const std::size_t st = patch_stride[i];
    const double *a = sg_lower[i].data(), *b = sg_upper[i].data();
    for (std::size_t s = interior_begin; s < interior_end; ++s) {
      if (mask[s] == 0.0)
        continue;
      const double flux = a[s] * p[s] - b[s] * p[s + st];
      if (flux == 0.0)
        continue;
      const double mu_L = potential[s] + tau * std::log(std::max(p[s], 1e-300)),
                   mu_R = potential[s + st] + tau * std::log(std::max(p[s + st], 1e-300));
      dissipation -= flux * (mu_R - mu_L) * inverse_h[i];
    }
  }
  return dissipation * cell_volume;
}

template <int dim>
double FiniteVolumeSolver<dim>::sg_max_out_rate() const {
  // per owned cell Σ_i (sg_lower(upper face) + sg_upper(lower face))/h_i: the rate at which
  // mass leaves it; explicit steps keep ρ ≥ 0 for dt ≤ 1/rate (the CFL and the diffusive limit
  // h²/(2dτ) in one)
  const double *mask = owned_mask.data();
  double max_rate = 0.0;
  for (std::size_t s = interior_begin; s < interior_end; ++s) {
    double out_rate = 0.0;
    for (unsigned int i = 0; i < dim; ++i)
      out_rate += (sg_lower[i][s] + sg_upper[i][s - patch_stride[i]]) * inverse_h[i];
    max_rate = std::max(max_rate, mask[s] * out_rate);
  }
  return max_rate;
}

template <int dim>
void FiniteVolumeSolver<dim>::langevin_diagnostics(const Objective::State &state,
                                                   const double *local_density) {
  // F' at the centres of the patch (the face derivatives may be exact ones), gathered for the
  // owned cells.
  if (prm.face_velocity == FaceVelocity::exact)
    objective.first_variation(state, centre_grid, xi.data(), nullptr);
  gibbs_xi.resize(n_owned);
  for (unsigned int c = 0; c < n_owned; ++c)
    gibbs_xi[c] = xi[owned_slot[c]];
  gibbs_diagnostics(state, local_density, gibbs_xi.data(), nullptr);
}

template <int dim>
void FiniteVolumeSolver<dim>::gibbs_diagnostics(const Objective::State &state, const double *rho,
                                                const double *potential, const double *volume) {
  // The entropy ∫ρ log ρ, the free energy F_τ = F + τ∫ρ log ρ (M12) and the Gibbs residual
  // ‖ρ − e^{−F'/τ}/Z‖_L1 with Z = Σ_K |K| e^{−F'_K/τ} (shifted by the smallest F'), over the
  // owned cells (volume: per cell, or nullptr for the lattice's one volume).
  const double tau = prm.dynamics.temperature;
  const auto volume_of = [&](const unsigned int c) {
    return volume ? volume[c] : cell_volume;
  };
  double entropy = 0.0, xi_min = std::numeric_limits<double>::max();
  for (unsigned int c = 0; c < n_owned; ++c) {
    entropy += rho[c] > 0.0 ? volume_of(c) * rho[c] * std::log(rho[c]) : 0.0;
    xi_min = std::min(xi_min, potential[c]);
  }
  xi_min = Utilities::MPI::min(xi_min, comm);
  double z = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    z += volume_of(c) * std::exp(-(potential[c] - xi_min) / tau);
  z = Utilities::MPI::sum(z, comm);
  double residual = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    residual += volume_of(c) * std::abs(rho[c] - std::exp(-(potential[c] - xi_min) / tau) / z);
  double sums[2] = {entropy, residual};
  Utilities::MPI::sum(ArrayView<const double>(sums, 2), comm, ArrayView<double>(sums, 2));
  last.entropy = sums[0];
  last.free_energy = state.value() + tau * sums[0];
  last.gibbs_residual = sums[1];
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::compute_sg_coefficients();                                \
  template void FiniteVolumeSolver<dim>::compute_sg_increment();                                   \
  template double FiniteVolumeSolver<dim>::sg_dissipation(const double *) const;                   \
  template double FiniteVolumeSolver<dim>::sg_max_out_rate() const;                                \
  template void FiniteVolumeSolver<dim>::langevin_diagnostics(const Objective::State &,            \
                                                              const double *);                     \
  template void FiniteVolumeSolver<dim>::gibbs_diagnostics(                                        \
      const Objective::State &, const double *, const double *, const double *);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
