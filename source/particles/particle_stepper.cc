#include <meanfield/base/exceptions.h>
#include <meanfield/particles/blow_up.h>
#include <meanfield/particles/particle_stepper.h>

#include <cmath>
#include <sstream>

namespace MeanField {
ParticleStepper::ParticleStepper(ParticleSystem &system_, const ParticleParameters &parameters)
    : system(system_)
    , prm(parameters)
    , eta(parameters.step) {}

void ParticleStepper::prepare() {
  d = system.prepare_step();
  const unsigned long n = system.iteration();
  if (n == 0) {
    F0 = d.F;
    first_step = prm.step * d.max_speed;
  }
  if (std::isfinite(d.F) && (n == 0 || d.F <= 100.0 * std::max(F0, 1e-300)))
    return;
  if (n == 0)
    throw RunError("F(mu_m) is not finite at the initial particles. Check the problem's "
                   "scales (Loss scale, weights) and the Particles/Initialization.");
  throw RunError(
      blow_up_message(system.problem(), F0, d.F, n, "Particles/Step", prm.step, first_step) +
      " The statistics up to here are written.");
}

double ParticleStepper::advance(const double limit) {
  return last_step = system.advance(limit, eta);
}

std::string ParticleStepper::progress() const {
  std::ostringstream text;
  text.precision(3);
  text << "eta = " << last_step;
  return text.str();
}
} // namespace MeanField
