#pragma once

#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/particles/particle_stepper.h>
#include <meanfield/pde/pde_stepper.h>
#include <meanfield/time/stepper.h>

#include <algorithm>
#include <string>

namespace MeanField {
/**
 * Run mode = compare as one Stepper (doc/theory.md §8): a step takes the PDE and the particles,
 * each with its own steps (CFL or implicit; η, backtracking), to the same time — the next
 * output time the TimeLoop gives as the limit. prepare() prepares both (the metrics need both
 * states). Interrupts are honoured between the inner steps too.
 */
template <int dim>
class ComparisonStepper : public Stepper {
public:
  ComparisonStepper(PdeStepper<dim> &pde, ParticleStepper &particles)
      : pde(pde)
      , particles(particles) {}

  void prepare() override {
    pde.prepare();
    prepare_particles();
  }
  double advance(const double limit) override {
    const double target = time() + limit;
    const double tolerance = 1e-12 * std::max(1.0, target);
    advance_to(pde, target, tolerance);
    advance_to(particles, target, tolerance);
    ++n_steps;
    return limit;
  }
  double time() const override { return pde.time(); }
  unsigned long step_number() const override { return n_steps; }
  double F() const override { return pde.F(); }
  double stationarity_residual() const override { return pde.stationarity_residual(); }
  std::string progress() const override {
    return "pde steps " + std::to_string(pde.step_number()) + ", particle iterations " +
           std::to_string(particles.step_number());
  }

private:
  PdeStepper<dim> &pde;
  ParticleStepper &particles;
  unsigned long n_steps = 0;

  // the prepared stepper @p s to t = target (prepared again after every inner step but the last:
  // prepare() of the next state does that)
  void advance_to(Stepper &s, const double target, const double tolerance) {
    while (true) {
      s.advance(target - s.time());
      if (s.time() >= target - tolerance)
        return;
      check_interrupt(comm_of(s), s.step_number(), s.time());
      if (&s == &particles)
        prepare_particles();
      else
        s.prepare();
    }
  }
  void prepare_particles() {
    try {
      particles.prepare();
    } catch (const RunError &error) {
      throw RunError(std::string("The particles of the comparison: ") + error.what());
    }
  }
  MPI_Comm comm_of(const Stepper &s) const {
    return &s == &particles ? particles.particles().communicator() : pde.solver().communicator();
  }
};
} // namespace MeanField
