#pragma once

#include <meanfield/particles/particle_system.h>
#include <meanfield/time/stepper.h>

namespace MeanField {
/**
 * The particle method as a Stepper (doc/theory.md §8): prepare() is one kernel evaluation at
 * the particles (free after a backtracking step, which prepared θ⁺); advance() is one step of
 * Particles/Integrator with Particles/Step control (fixed η or backtracking). A blow-up — F not
 * finite, or above 100 F(μ0) (F ≥ 0 for our problems) — is a RunError naming the step.
 * The stationarity residual is the mean speed (1/m) Σ_i |dθ_i/dt| (with a Fisher–Rao reaction
 * Σ_i w_i (|dθ_i/dt| + |d log w_i/dt|)).
 */
class ParticleStepper : public Stepper {
public:
  using Diagnostics = ParticleSystem::Diagnostics;

  ParticleStepper(ParticleSystem &system, const ParticleParameters &parameters);

  void prepare() override;
  double advance(double limit) override;
  double time() const override { return system.time(); }
  unsigned long step_number() const override { return system.iteration(); }
  double F() const override { return d.F; }
  double stationarity_residual() const override { return d.residual; }
  std::string progress() const override;

  const Diagnostics &diagnostics() const { return d; }
  const ParticleSystem &particles() const { return system; }
  /// The step η of the next advance() (backtracking changes it).
  double step() const { return eta; }

private:
  ParticleSystem &system;
  ParticleParameters prm;
  Diagnostics d;
  double eta, last_step = 0.0, F0 = 0.0, first_step = 0.0;
};
} // namespace MeanField
