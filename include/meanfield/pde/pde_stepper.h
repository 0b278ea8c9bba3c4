#pragma once

#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/time/stepper.h>

namespace MeanField {
/**
 * The finite-volume PDE as a Stepper (doc/theory.md §8): explicit SSP Runge–Kutta with the CFL
 * step, or linearly implicit steps (M10) whose length is controlled by two tests (M10a), made
 * after each step at ρⁿ⁺¹ (whose F' evaluation the next step reuses):
 * - accuracy: δ = Δt max_f |u_f(ρⁿ⁺¹) − u_f(ρⁿ)| / h, the cells by which the frozen velocity's
 *   error moved mass. δ > Step tolerance undoes the step and retries it with
 *   Δt·clamp(0.9 √(tol/δ), 0.2, 0.5) (ASPECT's repeat-on-cutback);
 * - stability of the lagged velocity: c = cos ∠(ρⁿ⁺¹ − ρⁿ, ρⁿ − ρⁿ⁻¹); c ≈ −1 when the state
 *   oscillates because F' reacts to ρ faster than 1/Δt.
 * An accepted step proposes Δt·clamp(min(0.9 √(tol/δ), 1 + c), 0.5, 2) for the next one.
 */
template <int dim>
class PdeStepper : public Stepper {
public:
  using Diagnostics = typename FiniteVolumeSolver<dim>::Diagnostics;

  PdeStepper(FiniteVolumeSolver<dim> &solver, const PdeParameters &parameters);

  void prepare() override;
  double advance(double limit) override;
  double time() const override { return fv.time(); }
  unsigned long step_number() const override { return fv.step_number(); }
  double F() const override { return d.F; }
  double stationarity_residual() const override { return d.residual; }
  std::string progress() const override;

  /// The diagnostics of the prepared state.
  const Diagnostics &diagnostics() const { return d; }
  FiniteVolumeSolver<dim> &solver() { return fv; }
  const FiniteVolumeSolver<dim> &solver() const { return fv; }

  /// Linearly implicit: KSP iterations of the last step, of all steps, and the steps undone.
  unsigned int last_linear_iterations() const { return last_iterations; }
  unsigned long total_linear_iterations() const { return total_iterations; }
  unsigned long rejected_steps() const { return rejected; }

private:
  FiniteVolumeSolver<dim> &fv;
  PdeParameters prm;
  Diagnostics d;
  bool fresh = false; ///< the state is already prepared (by the accuracy test)
  double F0 = 0.0, last_dt = 0.0, proposal = 0.0;
  unsigned int last_iterations = 0;
  unsigned long total_iterations = 0, rejected = 0;
  dealii::PETScWrappers::MPI::Vector before, increment, last_increment;

  double implicit_advance(double limit);
  /// One linearly implicit or backward Euler step; false when Newton failed (state restored).
  bool take_implicit_step(double dt);
  /// RunError when the proposed step has shrunk to nothing.
  void check_step_size(double dt) const;
  /// The factor 0.9 √(tol/δ) of the accuracy test, within [0.2, 2].
  double step_factor(double change) const;
  /// The cosine between this step's increment and the last accepted one's (sets `increment`).
  double alignment();
};
} // namespace MeanField
