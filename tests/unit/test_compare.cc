// The particle method against the PDE on the exact solution E2 (linear features): the mean solves
// a linear ODE, θ̄(t) = θ̄∞ + e^{−(A+λI)t}(θ̄0 − θ̄∞), for any measure. The particle mean follows
// it exactly (RK4), so once the difference of the two initial means (the sampling error of the
// particles) is carried along by the exact ODE, what remains between the particle mean and the
// PDE's is the PDE's discretization error, which shrinks under refinement.
#include "pde_test_helpers.h"
#include "study_test_helpers.h"
#include "test_helpers.h"

#include <meanfield/base/exceptions.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/compare/study.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/problems/exact_solutions.h>

#include <deal.II/base/mpi.h>

#include <cmath>
#include <fstream>
#include <iterator>

using namespace MeanField;

namespace {
const std::string e2 = "set Dimension = 2\nsubsection Problem\n set Type = linear features\nend\n"
                       "subsection Particles\n set Number of particles = 200\n"
                       " set Integrator = rk4\n set Initialization = pde density\nend\n"
                       "subsection Discretization\n set Reconstruction = minmod\nend\n";

// |particle mean − PDE mean| at t = 0.25 on a mesh of 16 · 2^r cells per direction.
double mean_gap(const unsigned int refinements, ComparisonMetrics &metrics) {
  const std::string text = e2 +
                           "subsection Mesh\n set Subdivisions = 16\n set Global refinements = " +
                           std::to_string(refinements) + "\nend\n";
  MeanField::testing::PdeSetup<2> pde(text, MPI_COMM_SELF);
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(text);
  ParticleParameters parameters;
  parameters.parse_parameters(prm);
  ParticleSystem particles(*pde.problem, parameters, MPI_COMM_SELF);
  particles.set_positions(initial_particles<2>(*pde.problem, parameters, *pde.mu0, pde.pde, 0, 200),
                          0);
  const dealii::Point<2> pde_mean0 = pde.solver->mean();
  std::vector<double> particle_mean0(2, 0.0);
  for (std::size_t j = 0; j < particles.cloud().size(); ++j)
    for (unsigned int i = 0; i < 2; ++i)
      particle_mean0[i] += particles.cloud().weights[j] * particles.cloud().position(j)[i];
  const double T = 0.25;
  while (pde.solver->time() < T - 1e-13)
    pde.solver->step(T - pde.solver->time());
  while (particles.time() < T - 1e-13) {
    particles.prepare_step();
    particles.complete_step(std::min(0.005, T - particles.time()));
  }
  pde.solver->prepare_step();
  particles.prepare_step();
  ComparisonParameters comparison{0.3, 500, 20, 1};
  metrics = compare(*pde.solver, particles, pde.problem->objective(), comparison, MPI_COMM_SELF);
  // the particle mean against the exact one (E2: exact for any m)
  std::vector<double> mean(2, 0.0);
  const WeightedCloud &cloud = particles.cloud();
  for (std::size_t j = 0; j < cloud.size(); ++j)
    for (unsigned int i = 0; i < 2; ++i)
      mean[i] += cloud.weights[j] * cloud.position(j)[i];
  const dealii::Point<2> pde_mean = pde.solver->mean();
  const auto &e2_problem = dynamic_cast<const LinearFeatures &>(*pde.problem);
  const std::vector<double> carried_p = e2_problem.mean(T, particle_mean0),
                            carried_h = e2_problem.mean(T, {pde_mean0[0], pde_mean0[1]});
  double gap2 = 0.0;
  for (unsigned int i = 0; i < 2; ++i) {
    EXPECT_NEAR(mean[i], carried_p[i], 1e-9); // the particles: exact
    const double residual = (mean[i] - pde_mean[i]) - (carried_p[i] - carried_h[i]);
    gap2 += residual * residual;
  }
  return std::sqrt(gap2);
}
} // namespace

TEST(CompareE2, ParticleMeanMatchesPdeMeanToTheDiscretizationError) {
  ComparisonMetrics coarse, fine;
  const double gap_coarse = mean_gap(0, coarse), gap_fine = mean_gap(1, fine);
  std::cout << "E2 mean gap particles - PDE: " << gap_coarse << " (16^2), " << gap_fine << " (32^2)"
            << std::endl;
  EXPECT_LT(gap_fine, 0.5 * gap_coarse); // shrinks with h: the PDE's error, not the particles'
  EXPECT_LT(gap_fine, 1e-2);
  // the metrics are finite, non-negative, and small next to the measures' spread (~1)
  for (const ComparisonMetrics &m : {coarse, fine}) {
    EXPECT_GE(m.energy_gap, 0.0);
    EXPECT_GE(m.prediction_distance, 0.0);
    EXPECT_LT(m.mmd, 0.3);
    EXPECT_LT(m.wasserstein, 0.3);
  }
}

// The expected rates, on a small study (E1 in 1D, 1024 cells, m = 16 ... 1024, 6 seeds, t = 0.2):
// i.i.d. particles converge like m^(-1/2) in MMD, W1 and energy gap (fitted slope in
// [-0.65, -0.35]); quasi-random and quantile particles converge faster (steeper by > 0.15).
TEST(Study, SlopesOfIidAndQuasiRandomParticles) {
  const std::string text = MeanField::testing::test_prm("study_small.prm");
  ASSERT_FALSE(text.empty());
  const std::vector<StudyRecord> records =
      MeanField::testing::study_records<1>(text, MPI_COMM_SELF);
  const std::vector<SlopeFit> fits = fit_slopes(records);
  using Init = ParticleInitialization;
  auto slope = [&](const Init initialization, const StudyMetric metric) {
    for (const SlopeFit &f : fits)
      if (f.initialization == initialization && f.metric == metric)
        return f.slope;
    ADD_FAILURE() << "no fit for " << to_string(initialization) << ", " << to_string(metric);
    return 0.0;
  };
  for (const StudyMetric metric :
       {StudyMetric::mmd, StudyMetric::wasserstein, StudyMetric::energy_gap}) {
    EXPECT_GE(slope(Init::iid, metric), -0.65) << to_string(metric);
    EXPECT_LE(slope(Init::iid, metric), -0.35) << to_string(metric);
  }
  for (const StudyMetric metric : {StudyMetric::mmd, StudyMetric::wasserstein}) {
    EXPECT_LT(slope(Init::quasi_random, metric), slope(Init::iid, metric) - 0.15)
        << to_string(metric);
    EXPECT_LT(slope(Init::quantiles, metric), slope(Init::iid, metric) - 0.3) << to_string(metric);
  }
}

// Bad study input: an empty or unsorted list of m, a time outside the run.
TEST(Study, InconsistentParametersAreRefused) {
  std::ifstream file(std::string(MEANFIELD_SOURCE_DIR) + "/tests/prm/study_small.prm");
  const std::string base((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (const std::string entry :
       {"set Particle numbers = 100, 30", "set Times = 0.1, 0.5", "set Initializations = sphere"}) {
    dealii::ParameterHandler prm;
    declare_all_parameters(prm);
    prm.parse_input_from_string(base + "subsection Study\n " + entry + "\nend\n");
    std::unique_ptr<Problem> problem = create_problem(prm, MPI_COMM_SELF);
    PdeParameters pde;
    pde.parse_parameters(prm);
    ParticleParameters particles;
    particles.parse_parameters(prm);
    StudyParameters study;
    EXPECT_THROW(
        {
          study.parse_parameters(prm);
          study.check_consistency(*problem, pde, particles);
        },
        InputError)
        << entry;
  }
  // malformed or empty lists do not match their patterns: refused by the parser, entry named
  for (const std::string entry : {"set Particle numbers = ", "set Particle numbers = 10, 1OO",
                                  "set Times = 0.1, soon", "set Initializations = iid, magic"}) {
    dealii::ParameterHandler prm;
    declare_all_parameters(prm);
    EXPECT_ANY_THROW(prm.parse_input_from_string(base + "subsection Study\n " + entry + "\nend\n"))
        << entry;
  }
}
