// The Fisher–Rao reaction of FiniteVolumeSolver (Dynamics/Type = wasserstein-fisher-rao): the
// cell source −αρ(F' − c) of (M14, M15), integrated exactly over a step with F' frozen, and its
// diagnostics (doc/theory.md §7.2).
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::owned_first_variation(const Objective::State &state, double *values) {
  if (faces) {
    objective.first_variation(state, faces->owned_centres, values, nullptr);
    return;
  }
  // the patch's centres in one grid evaluation (separable features), the owned ones gathered
  objective.first_variation(state, centre_grid, xi.data(), nullptr);
  for (unsigned int c = 0; c < n_owned; ++c)
    values[c] = xi[owned_slot[c]];
}

template <int dim>
double FiniteVolumeSolver<dim>::reaction_diagnostics(const Objective::State &state,
                                                     const double *rho, const double *volume) {
  // c = ∫F'dμ/∫dμ (M14) or 0 (M15), and α∫(F' − c)²dμ = α(Q − 2cS + c²M) with M = ∫dμ,
  // S = ∫F'dμ, Q = ∫F'²dμ over the owned cells (M16).
  reaction_xi.resize(n_owned);
  owned_first_variation(state, reaction_xi.data());
  double sums[3] = {0.0, 0.0, 0.0};
  for (unsigned int c = 0; c < n_owned; ++c) {
    const double m = rho[c] * (volume ? volume[c] : cell_volume), x = reaction_xi[c];
    sums[0] += m;
    sums[1] += m * x;
    sums[2] += m * x * x;
  }
  Utilities::MPI::sum(ArrayView<const double>(sums, 3), comm, ArrayView<double>(sums, 3));
  const double alpha = prm.dynamics.fisher_rao_rate;
  reaction_c = prm.dynamics.mass_preserving() && sums[0] > 0 ? sums[1] / sums[0] : 0.0;
  last.reaction_level = reaction_c;
  // (Q − cS) − c(S − cM): both brackets vanish for M14 without cancelling against c²M
  last.reaction_dissipation =
      alpha * ((sums[2] - reaction_c * sums[1]) - reaction_c * (sums[1] - reaction_c * sums[0]));
  // the rate at which the reaction changes a cell's density, α|F'_K − c| (explicit steps keep
  // α dt |F'_K − c| ≤ CFL number, like the transport's outgoing fraction)
  double max_rate = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    max_rate = std::max(max_rate, alpha * std::abs(reaction_xi[c] - reaction_c));
  return max_rate;
}

template <int dim>
void FiniteVolumeSolver<dim>::react(const double dt) {
  // ρ_K ← ρ_K e^{−α dt (F'_K − c)}: the exact solution of ∂_t ρ = −αρ(F' − c) with F' and c
  // frozen at the last prepared state; for (M14) the mass is then restored to its value before
  // the reaction, which makes the map the exact solution of the normalised (replicator)
  // equation with F' frozen, ρ e^{−αtF'}/∫ρ e^{−αtF'} (c drops out).
  Assert(reactive(), ExcMessage("react() without a Fisher-Rao rate"));
  Assert(reaction_xi.size() == n_owned, ExcMessage("react() needs prepare_step() first"));
  const FlushSubnormals guard;
  prepared = false;
  const double alpha = prm.dynamics.fisher_rao_rate;
  const double *volume = faces ? faces->volume.data() : nullptr;
  double masses[2] = {0.0, 0.0}; // before, after
  {
    OwnedValues values(rho);
    double *r = values.data();
    for (unsigned int c = 0; c < n_owned; ++c) {
      const double v = volume ? volume[c] : cell_volume;
      masses[0] += v * r[c];
      r[c] *= std::exp(-alpha * dt * (reaction_xi[c] - reaction_c));
      masses[1] += v * r[c];
    }
  }
  if (!prm.dynamics.mass_preserving())
    return;
  Utilities::MPI::sum(ArrayView<const double>(masses, 2), comm, ArrayView<double>(masses, 2));
  if (!(masses[1] > 0))
    return;
  const double scale = masses[0] / masses[1];
  OwnedValues values(rho); // (a plain loop: PETSc's VecScale would wake the BLAS threads)
  for (unsigned int c = 0; c < n_owned; ++c)
    values.data()[c] *= scale;
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::owned_first_variation(const Objective::State &,           \
                                                               double *);                          \
  template double FiniteVolumeSolver<dim>::reaction_diagnostics(const Objective::State &,          \
                                                                const double *, const double *);   \
  template void FiniteVolumeSolver<dim>::react(double);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
