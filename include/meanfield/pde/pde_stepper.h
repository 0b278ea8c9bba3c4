#pragma once

#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/time/stepper.h>

namespace MeanField {
/**
 * The finite-volume PDE as a Stepper (doc/theory.md §8): explicit SSP Runge–Kutta with the CFL
 * step, or linearly implicit steps (M10) whose length is set by the accuracy test (M10a):
 * after a step of length Δt the face velocities are evaluated at ρⁿ⁺¹ (the next step needs them
 * anyway); if δ = Δt max_f |Δu_f| / h exceeds Step tolerance (the frozen velocity's error moved
 * mass by more than that many cells), or F rose by more than Δt times the dissipation, the step
 * is undone and retried with Δt·max(0.2, 0.9 √(tol/δ)), else the next step is
 * Δt·min(2, 0.9 √(tol/δ)) (ASPECT's repeat-on-cutback).
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
  /// The accuracy test's δ of the last accepted step (M10a).
  double last_velocity_change() const { return velocity_change; }

private:
  FiniteVolumeSolver<dim> &fv;
  PdeParameters prm;
  Diagnostics d;
  bool fresh = false; ///< the state is already prepared (by the accuracy test)
  double F0 = 0.0, last_dt = 0.0, proposal = 0.0, velocity_change = 0.0;
  unsigned int last_iterations = 0;
  unsigned long total_iterations = 0, rejected = 0;

  double implicit_advance(double limit);
  /// The next proposal from δ: ×min(2, 0.9 tol/δ), ×max(0.2, …) after a rejection.
  double step_factor(double change) const;
};
} // namespace MeanField
