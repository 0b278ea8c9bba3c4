// The backward Euler step of FiniteVolumeSolver (M10b, doc/theory.md §4.2): G(x) = (x − ρⁿ)/Δt −
// L(x) = 0 with the face velocities of x, by Jacobian-free Newton–Krylov (NewtonSolver), the
// linearly implicit matrix I/Δt + A(u(x)) of (M10) as the preconditioner.
#include <meanfield/base/stopwatch.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/newton_solver.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::set_up_newton_solver() {
  newton_rate.reinit(owned, comm);
  auto residual = [this](const PETScWrappers::MPI::Vector &x, PETScWrappers::MPI::Vector &f) {
    const FlushSubnormals guard;
    Objective::State state;
    apply_operator(x, newton_rate, state);
    OwnedValues out(f);
    const OwnedValuesRead new_density(x), old_density(rho_previous), rate(newton_rate);
    const double inverse_dt = 1.0 / newton_dt;
    for (unsigned int c = 0; c < n_owned; ++c)
      out.data()[c] = (new_density.data()[c] - old_density.data()[c]) * inverse_dt - rate.data()[c];
  };
  auto preconditioner = [this](const PETScWrappers::MPI::Vector &x) {
    const FlushSubnormals guard;
    Objective::State state;
    apply_operator(x, newton_rate, state); // the face velocities of x
    prepared = true;
    {
      const Stopwatch watch(timings.assembly);
      assemble_transport_matrix(newton_dt);
    }
    prepared = false;
  };
  newton =
      std::make_unique<NewtonSolver>(transport, rho, residual, preconditioner,
                                     prm.linear_solver_options, prm.command_line_solver_options);
  PETScWrappers::MPI::Vector x(rho);
  newton->check_options(x);
}

template <int dim>
bool FiniteVolumeSolver<dim>::accept_newton_solution(const double dt, const double residual_norm) {
  // The root ρ* of G is non-negative; the Newton solution x is within ‖x − ρ*‖₂ ≲ ‖J⁻¹‖ ‖G(x)‖₂
  // of it, ‖J⁻¹‖ ~ Δt (J = I/Δt + A, A an M-matrix with vanishing column sums, plus the kernel
  // part). A negative part within 10 Δt ‖G(x)‖₂ is Newton's error: clipping it is the projection
  // onto ρ ≥ 0, which only brings x closer to ρ* (the mass is restored after). More is a failed
  // step.
  double negative_squared = 0, largest = 0;
  bool finite = true;
  {
    const OwnedValuesRead x(stage);
    for (unsigned int c = 0; c < n_owned; ++c) {
      const double value = x.data()[c];
      finite = finite && std::isfinite(value);
      negative_squared += value < 0 ? value * value : 0.0;
      largest = std::max(largest, value);
    }
  }
  if (Utilities::MPI::min(finite ? 1 : 0, comm) == 0)
    return false;
  const double negative = std::sqrt(Utilities::MPI::sum(negative_squared, comm));
  const double floor = 1e-12 * std::max(Utilities::MPI::max(largest, comm), 1.0);
  if (negative > 10 * dt * residual_norm + floor)
    return false;
  if (negative > 0) {
    OwnedValues x(stage);
    for (unsigned int c = 0; c < n_owned; ++c)
      x.data()[c] = std::max(x.data()[c], 0.0);
  }
  return true;
}

template <int dim>
bool FiniteVolumeSolver<dim>::nonlinear_step(const double dt) {
  Assert(prepared, ExcMessage("nonlinear_step() needs prepare_step() first"));
  AssertThrow(newton, ExcMessage("nonlinear_step() needs Scheme = implicit"));
  remember_step_start();
  newton_dt = dt;
  stage = rho; // the initial guess
  // ‖G‖₂ down to its round-off floor: G's terms are of size ρ/dt and |u| ρ / h per face
  double rate_scale = 1.0 / dt;
  for (unsigned int i = 0; i < dim; ++i) // (a refined mesh: its smallest cells)
    rate_scale += 2.0 * last.max_speed * (faces ? 1.0 / h_min : inverse_h[i]);
  const double absolute =
      100 * std::numeric_limits<double>::epsilon() * rate_scale * std::max(rho.l2_norm(), 1e-300);
  NewtonSolver::Outcome outcome;
  {
    const Stopwatch watch(timings.solve);
    outcome = newton->solve(stage, absolute);
  }
  last_newton_iterations = outcome.newton_iterations;
  last_linear_iterations = outcome.linear_iterations;
  if (!outcome.converged || !accept_newton_solution(dt, outcome.residual_norm)) {
    rho = rho_previous;
    return false;
  }
  // what left through outflow faces during the step: the outward flux of ρⁿ⁺¹
  Objective::State state;
  const double rate = apply_operator(stage, newton_rate, state);
  // Mass: Σ_K |K| ρ_K changes by Δt (Σ_K |K| G_K − outflow rate) (L conserves mass), so the
  // Newton tolerance, times a Δt that grows without bound towards stationarity, would make mass
  // drift. The exact root has Σ_K |K| G_K = 0: rescale ρⁿ⁺¹ to that mass (a relative change of
  // the order of the Newton tolerance; positivity is kept).
  const double outflow = Utilities::MPI::sum(rate, comm); // (this rank's faces in `rate`)
  if (faces) { // masses Σ_K |K| ρ_K with the cells' own volumes
    PETScWrappers::MPI::Vector volumes(owned, comm);
    cell_volumes(volumes);
    const double mass_before = volumes * rho_previous, mass_after = volumes * stage;
    if (mass_after > 0)
      stage *= (mass_before - dt * outflow) / mass_after;
  } else {
    PetscScalar sum_before = 0, sum_after = 0;
    VecSum(rho_previous, &sum_before);
    VecSum(stage, &sum_after);
    if (sum_after > 0)
      stage *= (sum_before - dt * outflow / cell_volume) / sum_after;
  }
  rho = stage;
  outflow_local += dt * rate;
  current_time += dt;
  ++n_steps;
  if (reactive()) // Lie splitting: the exact reaction with F' of the step's start (§7.2)
    react(dt);
  return true;
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::set_up_newton_solver();                                   \
  template bool FiniteVolumeSolver<dim>::nonlinear_step(double);                                   \
  template bool FiniteVolumeSolver<dim>::accept_newton_solution(double, double);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
