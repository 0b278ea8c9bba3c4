#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/particles/particle_system.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
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

  // ∫|∇F'|²dμ, Σ|∇F'|, and for the reaction ∫dμ, ∫F'dμ, ∫F'²dμ, ∫|∇F'|dμ
  double sums[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, max_speed = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    double norm2 = 0.0;
    for (unsigned int i = 0; i < d; ++i)
      norm2 += grads[j * d + i] * grads[j * d + i];
    const double w = particles.weights[j], speed = std::sqrt(norm2);
    sums[0] += w * norm2;
    sums[1] += speed;
    sums[2] += w;
    sums[3] += w * values[j];
    sums[4] += w * values[j] * values[j];
    sums[5] += w * speed;
    max_speed = std::max(max_speed, speed);
  }
  dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(sums, 6), comm,
                              dealii::ArrayView<double>(sums, 6));
  Diagnostics diagnostics;
  diagnostics.time = current_time;
  diagnostics.F = state.value();
  diagnostics.risk = state.risk;
  diagnostics.potential = state.potential;
  diagnostics.dissipation = sums[0];
  diagnostics.mean_speed = sums[1] / prm.n_particles;
  diagnostics.max_speed = dealii::Utilities::MPI::max(max_speed, comm);
  diagnostics.mass = sums[2];
  diagnostics.residual = diagnostics.mean_speed;
  if (reactive()) {
    // c = ∫F'dμ/∫dμ (M14) or 0 (M15); α∫(F' − c)²dμ = α((Q − cS) − c(S − cM)) (M16); the
    // residual Σ_i w_i (|∇F'_i| + α|F'_i − c|)
    const double alpha = prm.dynamics.fisher_rao_rate;
    const double c = prm.dynamics.mass_preserving() && sums[2] > 0 ? sums[3] / sums[2] : 0.0;
    diagnostics.reaction_level = c;
    diagnostics.reaction_dissipation =
        alpha * ((sums[4] - c * sums[3]) - c * (sums[3] - c * sums[2]));
    double change = 0.0;
    for (std::size_t j = 0; j < n; ++j)
      change += particles.weights[j] * std::abs(values[j] - c);
    diagnostics.residual = sums[5] + alpha * dealii::Utilities::MPI::sum(change, comm);
  }
  prepared = true;
  prepared_diagnostics = diagnostics;
  return diagnostics;
}

double ParticleSystem::backtracking_step(double dt) {
  require(prepared, "ParticleSystem::backtracking_step() needs prepare_step() first.");
  const Diagnostics before = prepared_diagnostics;
  const std::vector<double> theta0 = particles.points.coordinates, w0 = particles.weights;
  const Objective::State state0 = state;
  const std::vector<double> values0 = values, grads0 = grads, data_grads0 = data_grads;
  const double t0 = current_time;
  const unsigned long n0 = n_iterations;
  const double slack = 4.0 * std::numeric_limits<double>::epsilon() * std::abs(before.F);
  const double alpha = prm.dynamics.fisher_rao_rate;
  while (true) {
    complete_step(dt);
    // the squared length of the step in the flow's metric (M7f): Σ_i w_i |θ⁺_i − θ_i|², and
    // with a reaction + (1/α) Σ_i w_i (log w⁺_i − log w_i)² (the Fisher–Rao part, M16p)
    double moved = 0.0;
    for (std::size_t j = 0; j < particles.size(); ++j) {
      for (unsigned int i = 0; i < d; ++i) {
        double delta = particles.points[j][i] - theta0[j * d + i];
        if (periodic[i]) {
          const double length = upper[i] - lower[i];
          delta -= length * std::round(delta / length);
        }
        moved += w0[j] * delta * delta;
      }
      if (alpha > 0 && w0[j] > 0 && particles.weights[j] > 0) {
        const double change = std::log(particles.weights[j] / w0[j]);
        moved += w0[j] * change * change / alpha;
      }
    }
    moved = dealii::Utilities::MPI::sum(moved, comm);
    const Diagnostics after = prepare_step();
    if (after.F <= before.F - 0.5 * moved / dt + slack)
      return dt;
    // rejected: back to θ (and w), prepared as before, and half the step
    particles.points.coordinates = theta0;
    particles.weights = w0;
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

void ParticleSystem::velocity_at(const std::vector<double> &theta, std::vector<double> &k,
                                 const std::vector<double> *weights, std::vector<double> *values) {
  WeightedCloud cloud;
  cloud.points.dim = d;
  cloud.points.coordinates = theta;
  cloud.weights = weights ? *weights : particles.weights;
  const Objective::State s = objective.evaluate(cloud);
  std::vector<double> v(cloud.size());
  k.resize(theta.size());
  objective.first_variation(s, cloud.points, v.data(), k.data());
  for (double &ki : k)
    ki = -ki;
  if (values)
    *values = std::move(v);
}

void ParticleSystem::reweight(std::vector<double> &weights, const std::vector<double> &rate,
                              const double dt) const {
  // w_i ← w_i e^{−dt r_i}: exact for frozen r; (M14) then restores the weights' sum, which is
  // the exact solution of d log w_i/dt = −(r_i − c) with c = Σ_j w_j r_j / Σ_j w_j
  double masses[2] = {0.0, 0.0}; // before, after
  for (std::size_t j = 0; j < weights.size(); ++j) {
    masses[0] += weights[j];
    weights[j] *= std::exp(-dt * rate[j]);
    masses[1] += weights[j];
  }
  if (!prm.dynamics.mass_preserving())
    return;
  dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(masses, 2), comm,
                              dealii::ArrayView<double>(masses, 2));
  require(masses[1] > 0, "Dynamics/Type = wasserstein-fisher-rao: every particle weight "
                         "underflowed to 0 in one step; lower Particles/Step or the Fisher-Rao "
                         "rate.");
  const double scale = masses[0] / masses[1];
  for (double &w : weights)
    w *= scale;
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
  if (prm.integrator == ParticleIntegrator::euler || prm.integrator == ParticleIntegrator::rk2 ||
      prm.integrator == ParticleIntegrator::rk4) {
    runge_kutta_step(dt);
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
    if (weights_evolve()) { // the weights by the Euler factor, F' (with V) at the step's start
      std::vector<double> rate(values);
      for (double &r : rate)
        r *= prm.dynamics.fisher_rao_rate;
      reweight(particles.weights, rate, dt);
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
  if (reactive() && !weights_evolve())
    birth_death(dt);
  current_time += dt;
  ++n_iterations;
}

void ParticleSystem::birth_death(const double dt) {
  // this rank's events as (source, target) global indices: the target becomes a copy of the source
  const double alpha = prm.dynamics.fisher_rao_rate, c = prepared_diagnostics.reaction_level;
  const std::size_t m = prm.n_particles;
  std::vector<double> events;
  for (std::size_t j = 0; j < particles.size(); ++j) {
    const double beta = alpha * (values[j] - c);
    const std::size_t i = first + j;
    CounterStream stream(prm.seed + 0x6a09e667f3bcc909ULL, i, n_iterations);
    if (m < 2 || stream.uniform() >= -std::expm1(-std::abs(beta) * dt))
      continue;
    std::size_t partner = static_cast<std::size_t>(stream.uniform() * (m - 1));
    partner = std::min(partner, m - 2);
    if (partner >= i)
      ++partner;
    events.push_back(static_cast<double>(beta > 0 ? partner : i)); // (exact below 2^53)
    events.push_back(static_cast<double>(beta > 0 ? i : partner));
  }
  const std::vector<double> all = gather_all(events, comm); // in the order of i
  if (all.empty())
    return;
  // the sources' positions, each from its owner, gathered in event order
  const std::size_t n_events = all.size() / 2;
  std::vector<double> owned_sources(n_events * d, 0.0);
  for (std::size_t e = 0; e < n_events; ++e) {
    const std::size_t source = static_cast<std::size_t>(all[2 * e]);
    if (source >= first && source < first + particles.size())
      std::copy(particles.position(source - first), particles.position(source - first) + d,
                owned_sources.begin() + e * d);
  }
  // (each source has one owner: the sum over the ranks is its position)
  dealii::Utilities::MPI::sum(owned_sources, comm, owned_sources);
  for (std::size_t e = 0; e < n_events; ++e) {
    const std::size_t target = static_cast<std::size_t>(all[2 * e + 1]);
    if (target >= first && target < first + particles.size())
      std::copy(owned_sources.begin() + e * d, owned_sources.begin() + (e + 1) * d,
                particles.position(target - first));
  }
}

void ParticleSystem::runge_kutta_step(const double dt) {
  // Euler, Heun and RK4 on (θ, log w): k = −∇F' and r = αF' at each stage measure, the stage
  // weights from the same combination of the r's as the positions from the k's (M7, M14, M15);
  // the Brownian increment of Langevin dynamics (Euler–Maruyama, stochastic Heun) added to the
  // positions. Without a reaction the weights stay.
  std::vector<double> &theta = particles.points.coordinates;
  std::vector<double> &w = particles.weights;
  const std::size_t size = theta.size(), n = w.size();
  const bool react = weights_evolve();
  const double alpha = prm.dynamics.fisher_rao_rate;
  // Σ_s a_s α F'_s over the stages' F' values
  const auto rates = [&](std::initializer_list<std::pair<double, const std::vector<double> *>> f) {
    std::vector<double> r(n, 0.0);
    for (const auto &[a, xi] : f)
      for (std::size_t j = 0; j < n; ++j)
        r[j] += a * alpha * (*xi)[j];
    return r;
  };
  std::vector<double> stage(size), w_stage, k2, k3, k4, xi2, xi3, xi4;
  // the stage's weights w e^{−a r} (nullptr without a reaction: the particles' own)
  const auto weights_at = [&](const std::vector<double> &r, const double a) {
    if (!react)
      return static_cast<const std::vector<double> *>(nullptr);
    w_stage = w;
    reweight(w_stage, r, a);
    return static_cast<const std::vector<double> *>(&w_stage);
  };
  std::vector<double> *const no_values = nullptr;
  if (prm.integrator == ParticleIntegrator::euler) {
    // Euler–Maruyama: θ ← θ − dt ∇F'(θ) + √(2τ dt) ζ;  w ← w e^{−α dt (F' − c)}
    for (std::size_t i = 0; i < size; ++i)
      theta[i] -= dt * grads[i];
    add_noise(theta);
    if (react)
      reweight(w, rates({{1.0, &values}}), dt);
  } else if (prm.integrator == ParticleIntegrator::rk2) {
    // Heun (stochastic Heun for additive noise): θ¹ = θ + dt k₁ + ΔW,
    // θ ← θ + (dt/2)(k₁ + k(θ¹)) + ΔW; log w likewise
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] - dt * grads[i];
    add_noise(stage);
    const std::vector<double> r1 = react ? rates({{1.0, &values}}) : std::vector<double>();
    velocity_at(stage, k2, weights_at(r1, dt), react ? &xi2 : no_values);
    for (std::size_t i = 0; i < size; ++i)
      theta[i] += 0.5 * dt * (-grads[i] + k2[i]);
    add_noise(theta);
    if (react)
      reweight(w, rates({{0.5, &values}, {0.5, &xi2}}), dt);
  } else {
    const std::vector<double> r1 = react ? rates({{1.0, &values}}) : std::vector<double>();
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] - 0.5 * dt * grads[i];
    velocity_at(stage, k2, weights_at(r1, 0.5 * dt), react ? &xi2 : no_values);
    const std::vector<double> r2 = react ? rates({{1.0, &xi2}}) : std::vector<double>();
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] + 0.5 * dt * k2[i];
    velocity_at(stage, k3, weights_at(r2, 0.5 * dt), react ? &xi3 : no_values);
    const std::vector<double> r3 = react ? rates({{1.0, &xi3}}) : std::vector<double>();
    for (std::size_t i = 0; i < size; ++i)
      stage[i] = theta[i] + dt * k3[i];
    velocity_at(stage, k4, weights_at(r3, dt), react ? &xi4 : no_values);
    for (std::size_t i = 0; i < size; ++i)
      theta[i] += dt / 6.0 * (-grads[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    if (react)
      reweight(
          w, rates({{1.0 / 6.0, &values}, {1.0 / 3.0, &xi2}, {1.0 / 3.0, &xi3}, {1.0 / 6.0, &xi4}}),
          dt);
  }
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
