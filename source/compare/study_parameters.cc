#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/compare/study.h>
#include <meanfield/particles/parameters.h>

#include <deal.II/base/parameter_handler.h>

#include <string>

// The `Study` subsection (StudyParameters of compare/study.h).
namespace MeanField {
using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::List;
using dealii::Patterns::Selection;

void StudyParameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Study");
  prm.declare_entry("Particle numbers", "10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000",
                    List(Integer(1, 100000000), 1),
                    "The values of m, increasing, comma separated (1 <= m <= 1e8).");
  prm.declare_entry("Seeds", "3", Integer(1),
                    "Runs per m, with Particles/Seed, Particles/Seed + 1, ...");
  prm.declare_entry("Times", "", List(Double(0)),
                    "Times at which the metrics are recorded, increasing, within [0, Time "
                    "stepping/End time]. Empty: the End time only.");
  prm.declare_entry("Initializations", "iid",
                    List(Selection(enum_selection(initialization_names)), 1),
                    "Particle initializations to compare (values of Particles/Initialization), "
                    "comma separated, e.g. iid, quasi-random.");
  prm.declare_entry("Reference refinements", "1", Integer(0, 3),
                    "The PDE's own error is estimated against the same PDE on a mesh refined this "
                    "many more times (0: no estimate).");
  prm.declare_entry(
      "Assumed PDE order", "1", Double(1e-3, 10),
      "p in the refinement estimate of the PDE's own error in study_decomposition: E_ref = d1 / "
      "(1 - 2^(-p r)), d1 the distance to the reference mesh refined r = Reference refinements "
      "times (Richardson extrapolation, doc/theory.md M11i). With one reference mesh the order "
      "cannot be observed, so it is assumed: 1 for Discretization/Reconstruction = first order "
      "(for a higher order, 1 overestimates E_ref: by 1.41 at p = 1.76, r = 1); minmod measured "
      "1.76 on E1 in 1D (tests/prm/study_decomposition.prm), less where its limiter clips "
      "extrema.");
  prm.declare_entry(
      "Decomposition weights", "m^2", Selection(enum_selection(fit_weight_names)),
      "Weights of the least-squares fit MMD^2 = C/m + E_h^2 over the runs in "
      "study_decomposition (doc/theory.md M11h). m^2: weighted least squares, the noise of "
      "MMD^2 - E_h^2 being about C/m; uniform: ordinary least squares, in which the noise of the "
      "smallest m swamps the intercept E_h^2.");
  prm.leave_subsection();
}

void StudyParameters::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Study");
  particle_numbers.clear();
  for (const std::string &m : dealii::Utilities::split_string_list(prm.get("Particle numbers")))
    particle_numbers.push_back(dealii::Utilities::string_to_int(m)); // the pattern checked it
  n_seeds = prm.get_integer("Seeds");
  times = parse_double_list(prm.get("Times"), "Study/Times");
  initializations.clear();
  for (const std::string &name : dealii::Utilities::split_string_list(prm.get("Initializations")))
    initializations.push_back(parse_enum("Study/Initializations", name, initialization_names));
  reference_refinements = prm.get_integer("Reference refinements");
  assumed_pde_order = prm.get_double("Assumed PDE order");
  fit_weights =
      parse_enum("Study/Decomposition weights", prm.get("Decomposition weights"), fit_weight_names);
  prm.leave_subsection();
}

void StudyParameters::check_consistency(const Problem &problem, const PdeParameters &pde,
                                        const ParticleParameters &particles) const {
  require(!particle_numbers.empty(), "Study/Particle numbers is empty: give at least one m.");
  for (std::size_t k = 1; k < particle_numbers.size(); ++k)
    require(particle_numbers[k] > particle_numbers[k - 1],
            "Study/Particle numbers must be increasing (" +
                std::to_string(particle_numbers[k - 1]) + " is followed by " +
                std::to_string(particle_numbers[k]) + ").");
  for (std::size_t k = 0; k < times.size(); ++k) {
    require(times[k] >= 0 && times[k] <= pde.end_time + 1e-12,
            "Study/Times: " + std::to_string(times[k]) + " lies outside the run [0, " +
                std::to_string(pde.end_time) + "] (Time stepping/End time).");
    require(k == 0 || times[k] > times[k - 1], "Study/Times must be increasing.");
  }
  require(!initializations.empty(), "Study/Initializations is empty.");
  for (const ParticleInitialization initialization : initializations) {
    ParticleParameters p = particles;
    p.initialization = initialization;
    p.check_consistency(problem);
  }
}
} // namespace MeanField
