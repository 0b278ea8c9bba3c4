// The mean-field Langevin operator on the face table of a locally refined mesh: the
// Scharfetter–Gummel flux (M13) through every face with its own centre distance δ_f, its
// dissipation, and the free-energy diagnostics with per-cell volumes (doc/theory.md §4.1, §7).
#include <meanfield/pde/bernoulli.h>
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>

#include <algorithm>
#include <cmath>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::face_sg_coefficients() {
  // F_f = (τ/δ_f)(B(x) ρ_a − B(−x) ρ_b) per unit area, x = δ_f ∂_i F'(f)/τ: with the discrete
  // gradient x is the jump of F'/τ between the two centres, so e^{−F'/τ} is stationary face by
  // face, hanging or not. No-flux walls carry no flux at all; what they stop (the outward flux
  // against an empty outside) is a diagnostic, like the upwind wall flux.
  const FaceTable<dim> &t = *faces;
  const double tau = prm.dynamics.temperature;
  const double *g = face_dF.data(), *delta = t.distance.data();
  double *a = face_sg_lower.data(), *b = face_sg_upper.data();
  for (std::size_t f = 0; f < t.n_faces(); ++f) {
    double b_plus = 0.0, b_minus = 0.0;
    bernoulli_pair(delta[f] * g[f] / tau, b_plus, b_minus);
    a[f] = tau / delta[f] * b_plus;
    b[f] = tau / delta[f] * b_minus;
  }
  wall_flux_local = 0.0;
  for (const unsigned int f : t.walls)
    if (t.no_flux[f]) {
      const bool up = t.upper[f] == t.outside();
      wall_flux_local +=
          (up ? a[f] * face_rho[t.lower[f]] : b[f] * face_rho[t.upper[f]]) * t.area[f];
      a[f] = b[f] = face_dF[f] = 0.0;
    }
}

template <int dim>
double FiniteVolumeSolver<dim>::face_sg_dissipation() const {
  // D = −Σ_f F_f |f| (μ_b − μ_a), μ = F' + τ log ρ at the centres (face_xi): exactly −dF_τ/dt of
  // the semi-discrete scheme (summation by parts over the faces), over the faces this rank counts.
  const FaceTable<dim> &t = *faces;
  const double tau = prm.dynamics.temperature;
  const auto mu = [&](const unsigned int c) {
    return face_xi[c] + tau * std::log(std::max(face_rho[c], 1e-300));
  };
  double dissipation = 0.0;
  for (std::size_t f = 0; f < t.n_faces(); ++f)
    if (!t.is_wall(f) && t.counted[f] && face_flux[f] != 0.0)
      dissipation -= face_flux[f] * (mu(t.upper[f]) - mu(t.lower[f]));
  return dissipation;
}

template <int dim>
void FiniteVolumeSolver<dim>::face_langevin_diagnostics(const Objective::State &state) {
  // F' at the owned and ghost centres (already there with discrete-gradient velocities), then
  // the entropy, free energy and Gibbs residual with the cells' own volumes.
  const FaceTable<dim> &t = *faces;
  if (prm.face_velocity == FaceVelocity::exact && t.n_local > 0)
    objective.first_variation(state, t.local_centres, face_xi.data(), nullptr);
  gibbs_diagnostics(state, face_rho.data(), face_xi.data(), t.volume.data());
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::face_sg_coefficients();                                   \
  template double FiniteVolumeSolver<dim>::face_sg_dissipation() const;                            \
  template void FiniteVolumeSolver<dim>::face_langevin_diagnostics(const Objective::State &);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
