#include <meanfield/base/exceptions.h>
#include <meanfield/particles/particle_system.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace MeanField {
ParticleSystem::ParticleSystem(const Problem &problem, const ParticleParameters &parameters,
                               MPI_Comm communicator)
    : the_problem(problem)
    , objective(problem.objective().with_communicator(communicator))
    , prm(parameters)
    , comm(communicator)
    , d(problem.dimension())
    , batch_random(parameters.seed + 0x5bd1e995ULL)
    , particles(problem.dimension()) {
  set_walls(problem.domain());
}

void ParticleSystem::set_walls(const Domain &box) {
  require(box.dim() == d, "ParticleSystem::set_walls: a box of the wrong dimension.");
  periodic = box.periodic;
  lower = box.lower;
  upper = box.upper;
}

std::pair<std::size_t, std::size_t> ParticleSystem::local_range(const std::size_t m,
                                                                const unsigned int rank,
                                                                const unsigned int n_ranks) {
  return {m * rank / n_ranks, m * (rank + 1) / n_ranks};
}

void ParticleSystem::set_positions(const PointSet &local_positions, const std::size_t first_) {
  require(local_positions.dim == d, "ParticleSystem: positions of the wrong dimension.");
  particles.points = local_positions;
  particles.weights.assign(local_positions.size(), 1.0 / prm.n_particles);
  first = first_;
  const double total =
      dealii::Utilities::MPI::sum(static_cast<double>(local_positions.size()), comm);
  require(std::llround(total) == static_cast<long long>(prm.n_particles),
          "ParticleSystem: the ranks hold " + std::to_string(std::llround(total)) +
              " particles, not m = " + std::to_string(prm.n_particles) + ".");
  for (std::size_t j = 0; j < particles.size(); ++j)
    wrap(particles.position(j));
  current_time = 0.0;
  n_iterations = 0;
  prepared = false;
}

void ParticleSystem::wrap(double *theta) const {
  for (unsigned int i = 0; i < d; ++i)
    if (periodic[i]) {
      const double length = upper[i] - lower[i];
      theta[i] -= length * std::floor((theta[i] - lower[i]) / length);
    }
}

ParticleSystem::Diagnostics ParticleSystem::prepare_step() {
  if (prepared) // nothing moved since the last evaluation
    return prepared_diagnostics;
  const std::size_t n = particles.size();
  state = objective.evaluate(particles);
  values.resize(n);
  grads.resize(n * d);
  // ∇F' = data part + ∇V; the data part alone is kept for forward–backward
  objective.data_first_variation(state, particles.points, values.data(), grads.data());
  if (prm.integrator == ParticleIntegrator::forward_backward)
    data_grads = grads;
  objective.regularizer().add_to(particles.points, values.data(), grads.data());

  double sums[2] = {0.0, 0.0}, max_speed = 0.0; // ∫|∇F'|²dμ, Σ|∇F'|
  for (std::size_t j = 0; j < n; ++j) {
    double norm2 = 0.0;
    for (unsigned int i = 0; i < d; ++i)
      norm2 += grads[j * d + i] * grads[j * d + i];
    sums[0] += particles.weights[j] * norm2;
    sums[1] += std::sqrt(norm2);
    max_speed = std::max(max_speed, std::sqrt(norm2));
  }
  dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(sums, 2), comm,
                              dealii::ArrayView<double>(sums, 2));
  Diagnostics diagnostics;
  diagnostics.time = current_time;
  diagnostics.F = state.value();
  diagnostics.risk = state.risk;
  diagnostics.potential = state.potential;
  diagnostics.dissipation = sums[0];
  diagnostics.mean_speed = sums[1] / prm.n_particles;
  diagnostics.max_speed = dealii::Utilities::MPI::max(max_speed, comm);
  prepared = true;
  prepared_diagnostics = diagnostics;
  return diagnostics;
}

double ParticleSystem::backtracking_step(double dt) {
  require(prepared, "ParticleSystem::backtracking_step() needs prepare_step() first.");
  const Diagnostics before = prepared_diagnostics;
  const std::vector<double> theta0 = particles.points.coordinates;
  const Objective::State state0 = state;
  const std::vector<double> values0 = values, grads0 = grads, data_grads0 = data_grads;
  const double t0 = current_time;
  const unsigned long n0 = n_iterations;
  const double slack = 4.0 * std::numeric_limits<double>::epsilon() * std::abs(before.F);
  while (true) {
    complete_step(dt);
    double moved = 0.0; // |θ⁺ − θ|²_μ
    for (std::size_t j = 0; j < particles.size(); ++j)
      for (unsigned int i = 0; i < d; ++i) {
        double delta = particles.points[j][i] - theta0[j * d + i];
        if (periodic[i]) {
          const double length = upper[i] - lower[i];
          delta -= length * std::round(delta / length);
        }
        moved += particles.weights[j] * delta * delta;
      }
    moved = dealii::Utilities::MPI::sum(moved, comm);
    const Diagnostics after = prepare_step();
    if (after.F <= before.F - 0.5 * moved / dt + slack)
      return dt;
    // rejected: back to θ, prepared as before, and half the step
    particles.points.coordinates = theta0;
    state = state0;
    values = values0;
    grads = grads0;
    data_grads = data_grads0;
    prepared_diagnostics = before;
    prepared = true;
    current_time = t0;
    n_iterations = n0;
    dt *= 0.5;
    if (!(dt > 1e-300))
      throw RunError("Step control = backtracking: no step passes the descent test at t = " +
                     std::to_string(t0) + " (F = " + std::to_string(before.F) + ").");
  }
}

double ParticleSystem::advance(const double limit, double &eta) {
  const double dt = std::min(eta, limit);
  if (prm.step_control != StepControl::backtracking) {
    complete_step(dt);
    return dt;
  }
  const double taken = backtracking_step(dt);
  if (taken < dt)
    eta = taken;
  else if (dt == eta)
    eta *= 1.25;
  return taken;
}

void ParticleSystem::velocity_at(const std::vector<double> &theta, std::vector<double> &k) {
  WeightedCloud cloud;
  cloud.points.dim = d;
  cloud.points.coordinates = theta;
  cloud.weights = particles.weights;
  const Objective::State s = objective.evaluate(cloud);
  std::vector<double> v(cloud.size());
  k.resize(theta.size());
  objective.first_variation(s, cloud.points, v.data(), k.data());
  for (double &ki : k)
    ki = -ki;
}

Objective ParticleSystem::batch_objective() {
  const std::size_t b = prm.batch_size;
  if (auto fresh = the_problem.sample_data(batch_random, b))
    return objective.with_data(std::move(fresh));
  // b of the n data points without replacement (partial Fisher–Yates), reweighted to sum to 1
  const Dataset &data = objective.data();
  const std::size_t n = data.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto batch = std::make_shared<Dataset>();
  batch->input_dim = data.input_dim;
  double total = 0.0;
  for (std::size_t k = 0; k < b; ++k) {
    std::swap(order[k], order[k + batch_random.index(n - k)]);
    total += data.weights[order[k]];
  }
  for (std::size_t k = 0; k < b; ++k) {
    const std::size_t index = order[k];
    batch->push_back(data.input(index), total > 0 ? data.weights[index] / total : 1.0 / b,
                     data.targets[index]);
  }
  return objective.with_data(std::move(batch));
}

void ParticleSystem::complete_step(const double dt) {
  require(prepared, "ParticleSystem::complete_step() needs prepare_step() first.");
  prepared = false;
  std::vector<double> &theta = particles.points.coordinates;
  const std::size_t size = theta.size();
  // the Brownian increments √(2τ dt) ζ of the step (M12), zero for the Wasserstein flow
  if (prm.dynamics.noisy())
    draw_noise(dt);
  if (prm.integrator == ParticleIntegrator::euler) {
    // Euler–Maruyama: θ ← θ − dt ∇F'(θ) + √(2τ dt) ζ
    for (std::size_t i = 0; i < size; ++i)
      theta[i] -= dt * grads[i];
    add_noise(theta);
  } else if (prm.integrator == ParticleIntegrator::rk2) {
    // Heun (stochastic Heun for additive noise): θ¹ = θ + dt k₁ + ΔW,
    // θ ← θ + (dt/2)(k₁ + k(θ¹)) + ΔW
    std::vector<double> stage(size), k2;
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] - dt * grads[i];
    add_noise(stage);
    velocity_at(stage, k2);
    for (std::size_t i = 0; i < size; ++i)
      theta[i] += 0.5 * dt * (-grads[i] + k2[i]);
    add_noise(theta);
  } else if (prm.integrator == ParticleIntegrator::rk4) {
    std::vector<double> stage(size), k2, k3, k4;
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] - 0.5 * dt * grads[i];
    velocity_at(stage, k2);
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] + 0.5 * dt * k2[i];
    velocity_at(stage, k3);
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] + dt * k3[i];
    velocity_at(stage, k4);
    for (std::size_t i = 0; i < size; ++i)
      theta[i] += dt / 6.0 * (-grads[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
  } else if (prm.integrator == ParticleIntegrator::forward_backward) {
    const Regularizer &V = objective.regularizer();
    for (std::size_t j = 0; j < particles.size(); ++j) {
      double *p = particles.position(j);
      for (unsigned int i = 0; i < d; ++i)
        p[i] -= dt * data_grads[j * d + i] - noise_increment(j, i);
      V.prox(p, d, dt);
      if (prm.dynamics.noisy())
        reflect(p);
    }
  } else if (prm.integrator == ParticleIntegrator::sgd) {
    const Objective batch = batch_objective();
    const Objective::State s = batch.evaluate(particles);
    std::vector<double> v(particles.size()), g(size);
    batch.first_variation(s, particles.points, v.data(), g.data());
    for (std::size_t i = 0; i < size; ++i)
      theta[i] -= dt * g[i];
    add_noise(theta);
  } else
    throw InputError("Particles/Integrator = " + to_string(prm.integrator) + " is not known.");
  for (std::size_t j = 0; j < particles.size(); ++j)
    wrap(particles.position(j));
  current_time += dt;
  ++n_iterations;
}

void ParticleSystem::draw_noise(const double dt) {
  // Particle i's increments in step n from CounterStream(seed, i, n): the same on any number of
  // ranks. √(2τ dt) ζ, ζ ~ N(0, I_d) (M12).
  const std::size_t n = particles.size();
  const double scale = std::sqrt(2.0 * prm.dynamics.temperature * dt);
  noise.resize(n * d);
  for (std::size_t j = 0; j < n; ++j) {
    CounterStream stream(prm.seed + 0x2545f4914f6cdd1dULL, first + j, n_iterations);
    for (unsigned int i = 0; i < d; i += 2) {
      double z0 = 0.0, z1 = 0.0;
      stream.normal_pair(z0, z1);
      noise[j * d + i] = scale * z0;
      if (i + 1 < d)
        noise[j * d + i + 1] = scale * z1;
    }
  }
}

void ParticleSystem::add_noise(std::vector<double> &theta) const {
  if (!prm.dynamics.noisy())
    return;
  for (std::size_t k = 0; k < theta.size(); ++k)
    theta[k] += noise[k];
  for (std::size_t j = 0; j < particles.size(); ++j)
    reflect(theta.data() + j * d);
}

double ParticleSystem::noise_increment(const std::size_t j, const unsigned int i) const {
  return prm.dynamics.noisy() ? noise[j * d + i] : 0.0;
}

void ParticleSystem::reflect(double *theta) const {
  // Reflection at the walls of the non-periodic directions: the no-flux boundary of the
  // diffusion (the position folded into [lower, upper] with period 2(upper − lower)).
  for (unsigned int i = 0; i < d; ++i)
    if (!periodic[i] && (theta[i] < lower[i] || theta[i] > upper[i])) {
      const double length = upper[i] - lower[i];
      double y = std::fmod(theta[i] - lower[i], 2.0 * length);
      if (y < 0.0)
        y += 2.0 * length;
      theta[i] = lower[i] + (y > length ? 2.0 * length - y : y);
    }
}
} // namespace MeanField
