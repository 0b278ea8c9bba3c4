#include <meanfield/base/exceptions.h>
#include <meanfield/particles/blow_up.h>
#include <meanfield/pde/pde_stepper.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

namespace MeanField {
template <int dim>
PdeStepper<dim>::PdeStepper(FiniteVolumeSolver<dim> &solver_, const PdeParameters &parameters)
    : fv(solver_)
    , prm(parameters) {}

template <int dim>
void PdeStepper<dim>::prepare() {
  // a new mesh (Mesh/Refinement/Adaptive) leaves the state unprepared
  if (fv.adaptation_due() && fv.adapt_mesh()) {
    fresh = false;
    last_increment = dealii::PETScWrappers::MPI::Vector();
  }
  if (fresh)
    fresh = false; // prepared at the end of the last step
  else
    d = fv.prepare_step();
  if (fv.step_number() == 0)
    F0 = d.F;
  if (std::isfinite(d.F))
    return;
  if (fv.step_number() == 0)
    throw RunError("F(mu0) is not finite: the initial state overflows. Check the problem's "
                   "scales (Loss scale, Regularization or Weight decay, weights, the box) and "
                   "Initial condition/Density.");
  throw RunError("At t = " + std::to_string(d.time) + ": " +
                 blow_up_message(fv.problem(), F0, d.F, fv.step_number(),
                                 "Time stepping/CFL number", prm.cfl, 0.0) +
                 " The statistics up to here are written.");
}

template <int dim>
double PdeStepper<dim>::advance(const double limit) {
  if (prm.implicit())
    return last_dt = implicit_advance(limit);
  last_dt = std::min(d.stable_dt, limit);
  fv.complete_step(last_dt);
  return last_dt;
}

template <int dim>
double PdeStepper<dim>::step_factor(const double change) const {
  // the displacement error is O(dt²): the step that meets the tolerance is dt sqrt(tol/δ)
  if (!(change > 0))
    return 2.0;
  return std::clamp(0.9 * std::sqrt(prm.step_tolerance / change), 0.2, 2.0);
}

template <int dim>
double PdeStepper<dim>::alignment() {
  // cos ∠(ρⁿ⁺¹ − ρⁿ, ρⁿ − ρⁿ⁻¹) (M10a): near −1 when the lagged velocity makes the state
  // oscillate from step to step (the step is then too long for the feedback of F' on ρ)
  increment.reinit(fv.density());
  increment = fv.density();
  increment -= before;
  if (last_increment.size() != increment.size())
    return 1.0;
  const double norms = increment.l2_norm() * last_increment.l2_norm();
  return norms > 0 ? (increment * last_increment) / norms : 1.0;
}

template <int dim>
bool PdeStepper<dim>::take_implicit_step(const double dt) {
  if (prm.scheme == TimeScheme::backward_euler)
    return fv.nonlinear_step(dt);
  fv.implicit_step(dt);
  return true;
}

template <int dim>
void PdeStepper<dim>::check_step_size(const double dt) const {
  if (dt < 1e-12 * std::max(1.0, fv.time()))
    throw RunError("At t = " + std::to_string(fv.time()) +
                   ": no implicit step down to dt = " + std::to_string(dt) +
                   " meets Time stepping/Step tolerance = " + std::to_string(prm.step_tolerance) +
                   (prm.scheme == TimeScheme::backward_euler
                        ? " with a converged, non-negative Newton solution"
                        : " (the face velocities change too fast)") +
                   ". Raise the tolerance or use Scheme = explicit.");
}

template <int dim>
double PdeStepper<dim>::implicit_advance(const double limit) {
  if (proposal == 0.0) // the first step: as given, or the CFL step of μ0
    proposal = prm.initial_step > 0 ? prm.initial_step
                                    : (std::isfinite(d.stable_dt) ? d.stable_dt : limit);
  if (prm.maximum_step > 0)
    proposal = std::min(proposal, prm.maximum_step);
  before.reinit(fv.density());
  before = fv.density();
  while (true) {
    const double dt = std::min(proposal, limit);
    const bool solved = take_implicit_step(dt);
    last_iterations = fv.linear_iterations();
    total_iterations += last_iterations;
    if (!solved) { // Newton failed or went negative: the state is ρⁿ again
      ++rejected;
      proposal = dt * 0.25;
      d = fv.prepare_step();
      check_step_size(proposal);
      continue;
    }
    if (prm.step_tolerance == 0.0)
      return dt; // fixed steps
    // the tests (M10a) at ρⁿ⁺¹, whose kernel evaluation the next step reuses
    const Diagnostics next = fv.prepare_step();
    const double change = std::isfinite(next.F) ? fv.frozen_velocity_displacement(dt)
                                                : std::numeric_limits<double>::infinity();
    const double cosine = alignment();
    const double factor = std::min(step_factor(change), std::clamp(1.0 + cosine, 0.5, 2.0));
    if (change <= prm.step_tolerance && std::isfinite(next.residual)) {
      if (dt == proposal || factor < 1.0) // (a step cut short by an output time does not grow)
        proposal = dt * std::clamp(factor, 0.5, 2.0);
      if (prm.maximum_step > 0)
        proposal = std::min(proposal, prm.maximum_step);
      d = next;
      fresh = true;
      last_increment = increment;
      return dt;
    }
    fv.undo_step(); // and retry from ρⁿ, shorter
    ++rejected;
    proposal = dt * std::clamp(factor, 0.2, 0.5);
    d = fv.prepare_step();
    check_step_size(proposal);
  }
}

template <int dim>
std::string PdeStepper<dim>::progress() const {
  std::ostringstream text;
  text.precision(3);
  text << "dt = " << std::setw(10) << last_dt;
  if (prm.implicit())
    text << "  KSP its " << last_iterations << "  rejected " << rejected << "  residual "
         << d.residual;
  return text.str();
}

template class PdeStepper<1>;
template class PdeStepper<2>;
template class PdeStepper<3>;
} // namespace MeanField
