#pragma once

#include <meanfield/base/random.h>
#include <meanfield/objective/objective.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/problems/problem.h>

#include <limits>
#include <vector>

namespace MeanField {
/**
 * The particle method of (M7): μ_m = Σ_i w_i δ_{θ_i} with w_i = 1/m, dθ_i/dt = −∇F'(μ_m)(θ_i),
 * F' from the very same Objective as the finite-volume solver. The particles are split over the
 * MPI ranks (each rank a contiguous range of global indices); f_μ is the kernel's all-reduce.
 *
 * Like the PDE solver, a step is prepare_step() (the state, F' and ∇F' at the particles, the
 * diagnostics) then complete_step(dt) with the integrator of Particles/Integrator:
 * - euler:  θ ← θ − dt ∇F'(θ)  (gradient descent; η = dt in mean-field time);
 * - rk2:    Heun's SSP method;  rk4: the classical fourth-order Runge–Kutta method;
 * - forward-backward: θ ← prox_{dt V}(θ − dt ∇F'_R(θ)), F'_R the data part of F';
 * - sgd:    θ ← θ − dt ∇F'_B(θ) with F'_B the first variation on a fresh mini-batch B.
 * With Dynamics/Type = langevin every step adds the Brownian increment √(2τ dt) ζ_i (M12):
 * Euler–Maruyama, the stochastic Heun method (the same increment in both stages), the increment
 * before the prox of forward–backward; the particles reflect at the box's non-periodic walls.
 * With Dynamics/Type = wasserstein-fisher-rao the weights evolve too, d log w_i/dt =
 * −α(F'(θ_i) − c) (M14, M15): the integrator advances (θ_i, log w_i) together (Euler: w_i ←
 * w_i e^{−α dt (F'(θ_i) − c)}; Heun and RK4 with the stage measures' own weights and F'), so the
 * weights stay positive; for (M14) they are renormalised to sum 1 after every stage, which makes c
 * drop out of the update. Forward–backward moves the positions by its proximal step and the
 * weights by the Euler factor with F' at the start of the step.
 */
class ParticleSystem {
public:
  struct Diagnostics {
    double time = 0.0;
    double F = 0.0, risk = 0.0, potential = 0.0; ///< F(μ_m) and its parts (M2)
    double dissipation = 0.0;                    ///< ∫|∇F'|² dμ_m (M6)
    double mean_speed = 0.0, max_speed = 0.0;    ///< over the particles, of |∇F'(θ_i)|
    double mass = 1.0;                           ///< Σ_i w_i
    /// The stationarity residual: the mean speed, and with a reaction Σ_i w_i (|∇F'(θ_i)| +
    /// α|F'(θ_i) − c|), the rate at which the measure still moves and changes its weights
    double residual = 0.0;
    // Dynamics/Type = wasserstein-fisher-rao (NaN otherwise), doc/theory.md §7.2:
    /// c: ∫F'dμ_m/∫dμ_m (M14) or 0 (M15)
    double reaction_level = std::numeric_limits<double>::quiet_NaN();
    /// α∫(F' − c)²dμ_m, the reaction's part of −dF/dt (M16)
    double reaction_dissipation = std::numeric_limits<double>::quiet_NaN();
  };

  ParticleSystem(const Problem &problem, const ParticleParameters &parameters,
                 MPI_Comm communicator);

  /// The box whose periodic directions wrap the particles and whose other directions reflect
  /// them when the dynamics has noise (the PDE's no-flux walls); the problem's domain unless set.
  void set_walls(const Domain &box);

  /// This rank's particles: global indices [first, first + size), weights 1/m. Collective.
  void set_positions(const PointSet &local_positions, std::size_t first);

  /// The contiguous range of global indices rank @p rank of @p n_ranks holds.
  static std::pair<std::size_t, std::size_t> local_range(std::size_t m, unsigned int rank,
                                                         unsigned int n_ranks);

  /// The state at the current positions: F and its parts, F' and ∇F' at every particle.
  Diagnostics prepare_step();

  /// One step of length dt of the integrator (after prepare_step()). Collective.
  void complete_step(double dt);

  /**
   * Step control = backtracking: the step from @p dt down by halving until the descent test
   * F(θ⁺) ≤ F(θ) − |θ⁺ − θ|²_μ / (2 dt) holds (|v|²_μ = Σ_i w_i |v_i|², periodic coordinates by
   * their shortest difference; with a Fisher–Rao reaction the step's length includes the
   * weights' part (1/α) Σ_i w_i (log w⁺_i − log w_i)²). Returns the step taken; the system is
   * then prepared at θ⁺, so
   * the next prepare_step() costs nothing. RunError if no step above 1e-300 passes. Collective.
   */
  double backtracking_step(double dt);

  /**
   * One step of at most @p limit (an output or end time to land on) by Particles/Step control:
   * min(η, limit) when fixed; when backtracking, backtracking_step() from there, and η becomes
   * the step that passed, or grows by 1.25 after a full step that passed at once. Returns the
   * step taken. Collective.
   */
  double advance(double limit, double &eta);

  const Problem &problem() const { return the_problem; }
  MPI_Comm communicator() const { return comm; }
  double time() const { return current_time; }
  unsigned long iteration() const { return n_iterations; }
  const WeightedCloud &cloud() const { return particles; }
  std::size_t first_index() const { return first; }
  /// F'(μ_m) and ∇F'(μ_m) at this rank's particles, from the last prepare_step().
  const std::vector<double> &first_variation() const { return values; }
  const std::vector<double> &gradients() const { return grads; }
  /// The kernel state (f_μ, residuals, F and its parts) of the last prepare_step().
  const Objective::State &kernel_state() const { return state; }

private:
  const Problem &the_problem;
  const Objective objective;
  ParticleParameters prm;
  MPI_Comm comm;
  unsigned int d;
  std::vector<bool> periodic;
  std::vector<double> lower, upper;
  RandomStream batch_random; ///< SGD batches: the same stream on every rank

  WeightedCloud particles;
  std::size_t first = 0;
  double current_time = 0.0;
  unsigned long n_iterations = 0;
  bool prepared = false;
  Diagnostics prepared_diagnostics; ///< of the last prepare_step(), returned while prepared
  Objective::State state;
  std::vector<double> values, grads, data_grads; ///< at the particles (prepare_step)

  /// k = −∇F'(μ)(θ) for the cloud with positions @p theta and the particles' weights, or with
  /// @p weights if given (a stage of the weights' flow), and then F'(μ)(θ_i) into @p values (one
  /// evaluation). Collective.
  void velocity_at(const std::vector<double> &theta, std::vector<double> &k,
                   const std::vector<double> *weights = nullptr,
                   std::vector<double> *values = nullptr);
  /// Dynamics/Type = wasserstein-fisher-rao: w_i ← w_i e^{−dt rate_i} for the given exponents
  /// rate_i = α(F'_i − c) (c = 0 here: (M14) is renormalised instead, to the weights' sum before
  /// the step, over all ranks). Collective for (M14).
  void reweight(std::vector<double> &weights, const std::vector<double> &rate, double dt) const;
  /// Whether the flow has the Fisher–Rao reaction (Dynamics/Type = wasserstein-fisher-rao).
  bool reactive() const { return prm.dynamics.reactive(); }
  /// Whether the weights carry it (Particles/Fisher-Rao scheme = weights).
  bool weights_evolve() const {
    return reactive() && prm.fisher_rao_scheme == FisherRaoScheme::weights;
  }
  /**
   * Particles/Fisher-Rao scheme = birth-death, after the step's transport: each particle i, with
   * β_i = α(F'(θ_i) − c) at the step's start, has an event with probability 1 − e^{−|β_i| dt}
   * and a uniformly chosen partner j ≠ i (from the counter stream of (seed, i, step)): β_i > 0
   * kills i (θ_i ← θ_j), β_i < 0 clones it (θ_j ← θ_i). All events of a step read the positions
   * before any of them (applied in the order of i; a later event on the same target wins), so
   * the result is the same on any number of ranks. Collective.
   */
  void birth_death(double dt);
  /// The Runge–Kutta integrators' step (euler, rk2, rk4) of positions and log-weights.
  void runge_kutta_step(double dt);
  /// The objective on a fresh mini-batch (SGD).
  Objective batch_objective();
  std::vector<double> noise; ///< this step's Brownian increments, √(2τ dt) ζ per coordinate

  /// Periodic coordinates back into their period.
  void wrap(double *theta) const;
  /// Non-periodic coordinates reflected into the box (noisy dynamics).
  void reflect(double *theta) const;
  /// `noise` for the step from the current iteration (one counter-based stream per particle).
  void draw_noise(double dt);
  /// θ += noise, then reflect (nothing for the Wasserstein flow).
  void add_noise(std::vector<double> &theta) const;
  /// The increment of particle j, coordinate i (0 without noise).
  double noise_increment(std::size_t j, unsigned int i) const;
};
} // namespace MeanField
