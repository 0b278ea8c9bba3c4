#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/base/parallel.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/objective/loss.h>
#include <meanfield/paper/convex.h>
#include <meanfield/paper/experiment.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_stepper.h>
#include <meanfield/time/time_loop.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>
#include <deal.II/lac/lapack_full_matrix.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

namespace MeanField {
using dealii::Patterns::Bool;
using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::List;

void PaperParameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Paper");
  prm.declare_entry("Particle numbers", "3, 5, 10, 20, 50, 100, 200, 500",
                    List(Integer(1), 1, 1000),
                    "The values of m, increasing: from about m0/2 to 100 m0 (m0 = the number of "
                    "components of the simplest minimizer: spikes, or teacher neurons).");
  prm.declare_entry("Seeds", "3", Integer(1, 1000),
                    "S problem instances: the problem's Seed, Seed + 1, ..., Seed + S - 1 (a new "
                    "ground truth and data each); Particles/Seed + s seeds the particles and "
                    "Particles/Seed + 1000 + s the random features of instance s.");
  prm.declare_entry("Excess floor", "1e-10", Double(0),
                    "A particle run stops once F - F* <= floor x F* (floor x F(mu_0) when F* = 0): "
                    "the optimum is reached to round-off (0: never).");
  prm.declare_entry("Stall tolerance", "1e-12", Double(0),
                    "A particle run stops once F fell by at most tol x F over the last Stall "
                    "window iterations: a stationary point (0: never). Otherwise runs end at "
                    "Particles/End time or Particles/Maximum number of iterations.");
  prm.declare_entry("Stall window", "2000", Integer(1), "Iterations between stall checks.");
  prm.declare_entry("Baseline tolerance", "1e-9", Double(1e-15, 1),
                    "Relative duality gap to which the LASSO of the random-features baseline is "
                    "solved (sparse deconvolution).");
  prm.declare_entry(
      "Distribute runs", "true", Bool(),
      "true: the runs of an instance are dealt to the MPI ranks, each run on one rank "
      "(the results are the same bits on any number of ranks); false: every run "
      "uses all ranks (for m too large for one core).");
  prm.declare_entry(
      "Particle dynamics", "", List(dealii::Patterns::Selection(enum_selection(dynamics_names))),
      "The particle flows run for every instance and m, each a `method` of the tables: "
      "wasserstein (particles) and/or wasserstein-fisher-rao (particles_wfr: weighted "
      "particles, rate and mass from the Dynamics subsection, whose Type must then be "
      "wasserstein-fisher-rao). Empty: the flow of Dynamics/Type alone.");
  prm.declare_entry("Random features", "true", Bool(),
                    "Also run the convex baseline: positions fixed at m i.i.d. samples of mu0, "
                    "only the weights optimized.");
  prm.leave_subsection();
}

void PaperParameters::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Paper");
  particle_numbers.clear();
  for (const std::string &entry : dealii::Utilities::split_string_list(prm.get("Particle numbers")))
    particle_numbers.push_back(dealii::Utilities::string_to_int(entry));
  n_seeds = prm.get_integer("Seeds");
  excess_floor = prm.get_double("Excess floor");
  stall_tolerance = prm.get_double("Stall tolerance");
  stall_window = prm.get_integer("Stall window");
  baseline_tolerance = prm.get_double("Baseline tolerance");
  random_features = prm.get_bool("Random features");
  distribute_runs = prm.get_bool("Distribute runs");
  particle_dynamics.clear();
  for (const std::string &entry :
       dealii::Utilities::split_string_list(prm.get("Particle dynamics")))
    particle_dynamics.push_back(parse_enum("Paper/Particle dynamics", entry, dynamics_names));
  prm.leave_subsection();
  for (std::size_t i = 1; i < particle_numbers.size(); ++i)
    require(particle_numbers[i] > particle_numbers[i - 1],
            "Paper/Particle numbers must be increasing (" + std::to_string(particle_numbers[i]) +
                " follows " + std::to_string(particle_numbers[i - 1]) + ").");
}

namespace {
// The paper's stop criteria on the one TimeLoop: F within the excess floor of F*, or a stall
// (F fell by at most Stall tolerance · |F| over the last Stall window iterations).
class ConvergenceWatch : public TimeLoopObserver {
public:
  ConvergenceWatch(const PaperParameters &paper, const std::optional<double> F_star)
      : paper(paper)
      , F_star(F_star) {}
  void state(const Stepper &stepper, bool) override {
    const double F = stepper.F();
    const unsigned long n = stepper.step_number();
    if (n == 0)
      F0 = F_mark = F;
    if (F_star && F - *F_star <= paper.excess_floor * (*F_star > 0 ? *F_star : F0))
      reason = "optimum";
    else if (n > 0 && n % paper.stall_window == 0) {
      if (F_mark - F <= paper.stall_tolerance * std::abs(F))
        reason = "stalled";
      F_mark = F;
    }
  }
  bool stop(const Stepper &) override { return !reason.empty(); }
  std::string reason;

private:
  const PaperParameters &paper;
  const std::optional<double> F_star;
  double F0 = 0.0, F_mark = 0.0;
};
} // namespace

ParticleOutcome run_to_convergence(ParticleSystem &system, const ParticleParameters &parameters,
                                   const PaperParameters &paper,
                                   const std::optional<double> F_star) {
  dealii::Timer wall;
  ParticleStepper stepper(system, parameters);
  ConvergenceWatch watch(paper, F_star);
  TimeLoopSettings settings;
  settings.end_time = parameters.end_time;
  settings.max_steps = parameters.max_iterations;
  settings.progress = false;
  dealii::ConditionalOStream quiet(std::cout, false);
  StopReason stop = StopReason::end_time;
  try {
    stop = TimeLoop(settings, system.communicator(), quiet).run(stepper, watch);
  } catch (const RunError &error) {
    throw RunError("Run mode = paper, the particle run with m = " +
                   std::to_string(parameters.n_particles) + ": " + error.what());
  }
  ParticleOutcome outcome;
  outcome.F = stepper.F();
  outcome.time = stepper.time();
  outcome.iterations = stepper.step_number();
  // the paper's own criteria first, as they are checked at every state
  outcome.reason = !watch.reason.empty()           ? watch.reason
                   : stop == StopReason::max_steps ? "iterations"
                                                   : "end time";
  outcome.wall = wall.wall_time();
  return outcome;
}

namespace {
/// min_c ½ Σ_k κ ρ_k (Σ_j c_j φ(θ_j, x_k) − y_k)² by the SVD of the weighted n × m matrix; the
/// certificate is the relative optimality residual |Aᵀ(Ac − b)| / (σ_max |Ac − b|).
std::pair<std::vector<double>, double> least_squares(const Objective &objective,
                                                     const PointSet &atoms) {
  const Dataset &data = objective.data();
  const double kappa = objective.loss()->square_scale().value();
  const std::size_t n = data.size(), m = atoms.size();
  dealii::LAPACKFullMatrix<double> A(n, m);
  std::vector<double> column(n), s(n), b(n);
  for (std::size_t k = 0; k < n; ++k) {
    s[k] = std::sqrt(kappa * data.weights[k]);
    b[k] = s[k] * data.targets[k];
  }
  for (std::size_t j = 0; j < m; ++j) {
    objective.feature()->evaluate(atoms[j], data, column.data(), nullptr);
    for (std::size_t k = 0; k < n; ++k)
      A(k, j) = s[k] * column[k];
  }
  const dealii::LAPACKFullMatrix<double> A_copy(A);
  A.compute_svd();
  const auto &U = A.get_svd_u();
  const auto &VT = A.get_svd_vt();
  const std::size_t rank = std::min(n, m);
  const double sigma_max = rank > 0 ? A.singular_value(0) : 0.0;
  std::vector<double> c(m, 0.0);
  for (std::size_t i = 0; i < rank; ++i) {
    const double sigma = A.singular_value(i);
    if (sigma <= 1e-13 * sigma_max)
      break;
    double ub = 0.0;
    for (std::size_t k = 0; k < n; ++k)
      ub += U(k, i) * b[k];
    for (std::size_t j = 0; j < m; ++j)
      c[j] += ub / sigma * VT(i, j);
  }
  // the optimality residual
  std::vector<double> r(n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t j = 0; j < m; ++j)
      r[k] += A_copy(k, j) * c[j];
    r[k] -= b[k];
  }
  double r_norm = 0.0, g_norm = 0.0;
  for (const double v : r)
    r_norm += v * v;
  for (std::size_t j = 0; j < m; ++j) {
    double g = 0.0;
    for (std::size_t k = 0; k < n; ++k)
      g += A_copy(k, j) * r[k];
    g_norm += g * g;
  }
  const double certificate =
      r_norm > 0 ? std::sqrt(g_norm) / (sigma_max * std::sqrt(r_norm) + 1e-300) : 0.0;
  return {c, certificate};
}
} // namespace

BaselineOutcome random_features_baseline(const Problem &problem, const unsigned int m,
                                         const unsigned int seed, const double tolerance) {
  dealii::Timer wall(MPI_COMM_SELF, true);
  ParticleParameters sampling;
  sampling.n_particles = m;
  sampling.initialization = ParticleInitialization::iid;
  sampling.seed = seed;
  sampling.sphere_radius = 1.0;
  PointSet atoms = initial_particles(problem, sampling, 0, m);
  const Objective objective = problem.objective().with_communicator(MPI_COMM_SELF);
  BaselineOutcome outcome;
  const Problem::ConvexBaseline baseline = problem.convex_baseline();
  using Kind = Problem::ConvexBaseline::Kind;
  if (baseline.kind == Kind::none)
    throw InputError("Run mode = paper: " + baseline.unavailable);
  for (std::size_t j = 0; j < m; ++j)
    atoms[j][baseline.weight] = 1.0;
  if (baseline.kind == Kind::lasso) {
    const ConvexResult result =
        solve_weights(objective, atoms, baseline.lambda, tolerance, 5000000);
    outcome.F = result.value;
    outcome.certificate = result.gap;
    outcome.iterations = result.iterations;
  } else {
    const auto [c, certificate] = least_squares(objective, atoms);
    // the value through the kernel: μ = (1/m) Σ_j δ_{(m c_j, w_j)} has f = Σ_j c_j σ(w_j · x)
    WeightedCloud cloud(atoms.dim);
    for (std::size_t j = 0; j < m; ++j) {
      cloud.push_back(atoms[j], 1.0 / m);
      cloud.position(j)[baseline.weight] = m * c[j];
    }
    const Objective::State state = objective.evaluate(cloud);
    outcome.F = state.value();
    outcome.certificate = certificate;
    outcome.iterations = 1;
  }
  outcome.wall = wall.wall_time();
  return outcome;
}

namespace {
const EnumName<PaperMethod> method_names[] = {{PaperMethod::particles, "particles"},
                                              {PaperMethod::fisher_rao_particles, "particles_wfr"},
                                              {PaperMethod::random_features, "random_features"}};
} // namespace

std::string to_string(const PaperMethod method) {
  return enum_name(method_names, method);
}

namespace {
StatisticsTable paper_table() {
  StatisticsTable table;
  table.add_column("seed", "problem instance s (problem Seed + s)");
  table.add_column("m", "number of particles or random features");
  table.add_column("method", "particles (non-convex Wasserstein gradient flow), particles_wfr "
                             "(the Wasserstein-Fisher-Rao flow of weighted particles) or "
                             "random_features (convex minimization over the weights, positions "
                             "fixed at mu0 samples)");
  table.add_column("F", "F at the end of the run (particles) or at the convex optimum (baseline)");
  table.add_column("F*", "the optimum over all measures (Problem::optimal_value)");
  table.add_column("F - F*", "excess loss");
  table.add_column("certificate", "particles: (F - F*) / F* (nan when F* = 0); random "
                                  "features: LASSO duality gap, or least-squares relative "
                                  "optimality residual");
  table.add_column("iterations", "particle steps, or solver iterations");
  table.add_column("t", "mean-field time reached (particles)");
  table.add_column("stop", "why a particle run ended: optimum, stalled, end_time, iterations "
                           "(baseline: certified)");
  table.add_column("wall time", "seconds for this run");
  return table;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
} // namespace

namespace {
// One (instance, m) of the study on @p comm: the particle flow, then the random features.
std::vector<PaperRecord> run_instance(const Problem &problem, const double F_star,
                                      const unsigned int s, const unsigned int m,
                                      const ParticleParameters &particles,
                                      const PaperParameters &paper, MPI_Comm comm) {
  std::vector<PaperRecord> records;
  for (const DynamicsType dynamics : paper.particle_dynamics) {
    ParticleParameters p = particles;
    p.n_particles = m;
    p.seed = particles.seed + s;
    if (dynamics == DynamicsType::wasserstein) // the same particles without the reaction
      p.dynamics = Dynamics();
    p.check_consistency(problem);
    ParticleSystem system(problem, p, comm);
    const auto [first, end] =
        ParticleSystem::local_range(m, dealii::Utilities::MPI::this_mpi_process(comm),
                                    dealii::Utilities::MPI::n_mpi_processes(comm));
    system.set_positions(initial_particles(problem, p, first, end - first), first);
    const ParticleOutcome flow = run_to_convergence(system, p, paper, F_star);
    PaperRecord r;
    r.seed = s;
    r.m = m;
    r.method = dynamics == DynamicsType::wasserstein ? PaperMethod::particles
                                                     : PaperMethod::fisher_rao_particles;
    r.F = flow.F;
    r.F_star = F_star;
    r.certificate =
        F_star > 0 ? (flow.F - F_star) / F_star : std::numeric_limits<double>::quiet_NaN();
    r.iterations = flow.iterations;
    r.time = flow.time;
    r.reason = flow.reason;
    r.wall = flow.wall;
    records.push_back(r);
  }
  if (paper.random_features) {
    const BaselineOutcome rf =
        random_features_baseline(problem, m, particles.seed + 1000 + s, paper.baseline_tolerance);
    PaperRecord b;
    b.seed = s;
    b.m = m;
    b.method = PaperMethod::random_features;
    b.F = rf.F;
    b.F_star = F_star;
    b.certificate = rf.certificate;
    b.iterations = rf.iterations;
    b.time = std::numeric_limits<double>::quiet_NaN();
    b.reason = "certified";
    b.wall = rf.wall;
    records.push_back(b);
  }
  return records;
}

// Every rank's records on every rank, as 10 numbers each (the method by its value, the reason by
// its index).
const std::vector<std::string> reasons{"optimum", "stalled", "end time", "iterations", "certified"};

std::vector<PaperRecord> gather_records(const std::vector<PaperRecord> &local, MPI_Comm comm) {
  constexpr std::size_t width = 10;
  auto index_of = [](const std::vector<std::string> &list, const std::string &value) {
    return static_cast<double>(std::find(list.begin(), list.end(), value) - list.begin());
  };
  std::vector<double> packed;
  for (const PaperRecord &r : local)
    packed.insert(packed.end(), {double(r.seed), double(r.m), double(static_cast<int>(r.method)),
                                 r.F, r.F_star, r.certificate, double(r.iterations), r.time,
                                 index_of(reasons, r.reason), r.wall});
  const std::vector<double> all = gather_all(packed, comm);
  std::vector<PaperRecord> records(all.size() / width);
  for (std::size_t k = 0; k < records.size(); ++k) {
    const double *v = all.data() + k * width;
    PaperRecord &r = records[k];
    r.seed = static_cast<unsigned int>(v[0]);
    r.m = static_cast<unsigned int>(v[1]);
    r.method = static_cast<PaperMethod>(static_cast<int>(v[2]));
    r.F = v[3];
    r.F_star = v[4];
    r.certificate = v[5];
    r.iterations = static_cast<unsigned long>(v[6]);
    r.time = v[7];
    r.reason = reasons.at(static_cast<std::size_t>(v[8]));
    r.wall = v[9];
  }
  return records;
}

// Distributed: the values of m, largest first, dealt to the ranks in snake order (0, 1, ..., P−1,
// P−1, ..., 0, ...) so that the largest runs are spread evenly, each run on its rank alone (the
// same bits on any number of ranks); otherwise every run on all ranks.
std::vector<unsigned int> runs_of_rank(const PaperParameters &paper, const unsigned int rank,
                                       const unsigned int n_ranks) {
  std::vector<unsigned int> mine;
  const std::vector<unsigned int> by_cost(paper.particle_numbers.rbegin(),
                                          paper.particle_numbers.rend());
  for (std::size_t k = 0; k < by_cost.size(); ++k) {
    const std::size_t round = k / n_ranks, position = k % n_ranks;
    const std::size_t owner = round % 2 == 0 ? position : n_ranks - 1 - position;
    if (!paper.distribute_runs || owner == rank)
      mine.push_back(by_cost[k]);
  }
  return mine;
}

// A rank's failure re-thrown on every rank, so that no rank is left waiting in a collective.
void rethrow_on_every_rank(const std::string &error, const bool input_error, const bool distributed,
                           MPI_Comm comm) {
  std::vector<std::string> errors{error};
  std::vector<bool> kinds{input_error};
  if (distributed) {
    errors = dealii::Utilities::MPI::all_gather(comm, error);
    kinds = dealii::Utilities::MPI::all_gather(comm, input_error);
  }
  for (std::size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty()) {
      if (kinds[r])
        throw InputError(errors[r]);
      throw RunError(errors[r]);
    }
}

void print_record(const PaperRecord &r, dealii::ConditionalOStream &pcout) {
  pcout << "    m = " << std::setw(5) << r.m << "  " << std::setw(15) << to_string(r.method)
        << ": F - F* = " << std::setw(11) << r.F - r.F_star;
  if (r.method == PaperMethod::random_features)
    pcout << " (" << r.wall << " s)" << std::endl;
  else
    pcout << " (" << r.reason << ", " << r.iterations << " steps, t = " << r.time << ", " << r.wall
          << " s)" << std::endl;
}

// Per m and method: the median and the range of the excess F − F* over the instances.
void write_summary(const std::vector<PaperRecord> &records, const PaperParameters &paper,
                   const std::string &file, MPI_Comm comm) {
  StatisticsTable summary;
  summary.add_column("m", "number of particles or random features");
  const auto columns = [&](const std::string &name, const std::string &what) {
    summary.add_column(name + " median", "median over instances of F - F*, " + what);
    summary.add_column(name + " min", "smallest F - F*, " + what);
    summary.add_column(name + " max", "largest F - F*, " + what);
  };
  columns("particles", "Wasserstein particle flow (nan: not run)");
  columns("random features", "convex baseline (nan: off)");
  const bool fisher_rao = std::count(paper.particle_dynamics.begin(), paper.particle_dynamics.end(),
                                     DynamicsType::wasserstein_fisher_rao) > 0;
  if (fisher_rao)
    columns("particles_wfr", "Wasserstein-Fisher-Rao particle flow");
  std::vector<PaperMethod> methods{PaperMethod::particles, PaperMethod::random_features};
  if (fisher_rao)
    methods.push_back(PaperMethod::fisher_rao_particles);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const unsigned int m : paper.particle_numbers) {
    std::map<PaperMethod, std::vector<double>> excess;
    for (const PaperRecord &r : records)
      if (r.m == m)
        excess[r.method].push_back(r.F - r.F_star);
    std::vector<StatisticsTable::Value> row{static_cast<long long>(m)};
    for (const PaperMethod method : methods) {
      const auto &v = excess[method];
      row.push_back(v.empty() ? nan : median(v));
      row.push_back(v.empty() ? nan : *std::min_element(v.begin(), v.end()));
      row.push_back(v.empty() ? nan : *std::max_element(v.begin(), v.end()));
    }
    summary.add_row(row);
  }
  summary.write(file, comm);
}
} // namespace

std::vector<PaperRecord>
run_paper(const std::function<std::unique_ptr<Problem>(unsigned int)> &make_problem,
          const RunParameters &run, const ParticleParameters &particles,
          const PaperParameters &parameters, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  PaperParameters paper = parameters; // with the flows to run
  if (paper.particle_dynamics.empty())
    paper.particle_dynamics.push_back(particles.dynamics.type);

  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm),
                     n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  dealii::Timer total(comm, true);
  StatisticsTable table = paper_table();
  std::vector<PaperRecord> records;
  auto add = [&](const PaperRecord &r) {
    records.push_back(r);
    const double excess = r.F - r.F_star;
    std::string stop = r.reason;
    std::replace(stop.begin(), stop.end(), ' ', '_');
    table.add_row({static_cast<long long>(r.seed), static_cast<long long>(r.m), to_string(r.method),
                   r.F, r.F_star, excess, r.certificate, static_cast<long long>(r.iterations),
                   r.time, stop, r.wall});
    table.write(run.output_directory + "/paper", comm);
  };

  for (unsigned int s = 0; s < paper.n_seeds; ++s) {
    const std::unique_ptr<Problem> problem = make_problem(s);
    dealii::Timer optimum_timer;
    const std::optional<double> F_star = problem->optimal_value();
    const double optimum_wall = optimum_timer.wall_time();
    require(F_star.has_value(), "Run mode = paper needs a problem whose optimum F* is known: "
                                "sparse deconvolution with the exact l1 penalty (Huber width = "
                                "0), or a two-layer network with the square loss and Weight "
                                "decay = 0.");
    pcout << "\n  instance s = " << s << ": F* = " << std::setprecision(12) << *F_star
          << std::setprecision(6) << " (computed in " << optimum_wall << " s)"
          << (paper.distribute_runs && n_ranks > 1
                  ? ", runs dealt to " + std::to_string(n_ranks) + " ranks"
                  : std::string())
          << std::endl;
    const std::vector<unsigned int> mine = runs_of_rank(paper, rank, n_ranks);
    const MPI_Comm run_comm = paper.distribute_runs ? MPI_COMM_SELF : comm;
    std::vector<PaperRecord> local;
    std::string error; // a rank's failure, re-thrown on every rank (no rank left in a collective)
    bool input_error = false;
    try {
      for (const unsigned int m : mine) {
        const std::vector<PaperRecord> pair =
            run_instance(*problem, *F_star, s, m, particles, paper, run_comm);
        local.insert(local.end(), pair.begin(), pair.end());
      }
    } catch (const InputError &e) {
      error = e.what();
      input_error = true;
    } catch (const std::exception &e) {
      error = e.what();
    }
    rethrow_on_every_rank(error, input_error, paper.distribute_runs, comm);
    std::vector<PaperRecord> all =
        paper.distribute_runs ? gather_records(local, comm) : std::move(local);
    std::sort(all.begin(), all.end(), [](const PaperRecord &a, const PaperRecord &b) {
      return a.m != b.m ? a.m < b.m : a.method < b.method; // particles, particles_wfr, features
    });
    for (const PaperRecord &r : all) {
      add(r);
      print_record(r, pcout);
    }
  }

  write_summary(records, paper, run.output_directory + "/paper_summary", comm);
  pcout << "\n  the whole study: " << total.wall_time() << " s wall time\n";
  return records;
}
} // namespace MeanField
