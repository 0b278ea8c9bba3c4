#pragma once

#include <string>

namespace MeanField {
/**
 * What the one TimeLoop needs of a discretization in time (doc/theory.md §8): the finite-volume
 * PDE (explicit SSP Runge–Kutta or linearly implicit steps) and the particles (Euler, RK2, RK4,
 * forward–backward, SGD; fixed or backtracking steps) are steppers.
 *
 * A step is prepare() — the state and its diagnostics, one kernel evaluation unless the last
 * step already left the state prepared — then advance(limit). The stepper chooses its own step
 * (a CFL step, η, an adaptive or backtracking step) but never goes past @p limit, which is how
 * the loop lands exactly on output times and on the end time.
 */
class Stepper {
public:
  virtual ~Stepper() = default;

  /// Evaluate the current state: F, its diagnostics, the stationarity residual. Collective.
  /// Throws RunError if the state blew up (F not finite, or beyond the stepper's bound).
  virtual void prepare() = 0;

  /// One step of at most @p limit from the prepared state; returns the step taken. Collective.
  /// Throws RunError (the state restored to the start of the step) when no step is possible.
  virtual double advance(double limit) = 0;

  virtual double time() const = 0;
  virtual unsigned long step_number() const = 0;

  /// F of the prepared state (M2).
  virtual double F() const = 0;

  /// The stationarity residual of the prepared state: ‖∂_t‖ of the discrete state (the PDE:
  /// Σ_K |K| |dρ_K/dt|; the particles: (1/m) Σ_i |dθ_i/dt|), compared with the tolerance.
  virtual double stationarity_residual() const = 0;

  /// A few words on the last step for the progress line ("dt = 1e-3", "eta = 0.5, 3 KSP its").
  virtual std::string progress() const = 0;
};
} // namespace MeanField
