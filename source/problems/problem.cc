#include <meanfield/base/exceptions.h>
#include <meanfield/base/memory.h>
#include <meanfield/problems/exact_solutions.h>
#include <meanfield/problems/problem.h>
#include <meanfield/problems/sparse_deconvolution.h>
#include <meanfield/problems/two_layer_network.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace MeanField {
double Domain::volume() const {
  double v = 1.0;
  for (unsigned int i = 0; i < dim(); ++i)
    v *= upper[i] - lower[i];
  return v;
}

std::vector<double> parse_double_list(const std::string &text, const std::string &entry) {
  std::vector<double> values;
  for (const std::string &item : dealii::Utilities::split_string_list(text, ',')) {
    if (item.empty())
      continue;
    char *end = nullptr;
    const double value = std::strtod(item.c_str(), &end);
    require(end != nullptr && *end == '\0' && std::isfinite(value),
            (entry.empty() ? std::string("A list entry") : entry) + ": <" + item +
                "> is not a finite number (in <" + text + ">).");
    values.push_back(value);
  }
  return values;
}

namespace {
// Parse the parameters of problem type P from its subsection, then build it. Checks that
// need several values at once live in the constructors and throw InputError; the message
// is prefixed with the subsection so the user knows where to look.
template <typename P>
std::unique_ptr<Problem> parse_and_build(dealii::ParameterHandler &prm, const std::string &section,
                                         MPI_Comm communicator) {
  typename P::Parameters parameters;
  prm.enter_subsection("Problem");
  prm.enter_subsection(section);
  parameters.parse_parameters(prm);
  prm.leave_subsection();
  prm.leave_subsection();
  MemoryEstimate memory; // before the data are generated
  memory.add("data (every rank)", parameters.data_bytes(),
             "Problem/" + section + "/Number of samples (and Input dimension)");
  memory.check(communicator);
  try {
    return std::make_unique<P>(parameters, communicator);
  } catch (const InputError &e) {
    throw InputError("In subsection Problem/" + section + ": " + e.what());
  }
}

// The problem registry: Problem/Type, its spelling, its subsection, how to declare its entries
// and build it.
struct ProblemEntry {
  ProblemType type;
  const char *name, *section;
  void (*declare)(dealii::ParameterHandler &);
  std::unique_ptr<Problem> (*build)(dealii::ParameterHandler &, const std::string &, MPI_Comm);
};
template <typename P>
constexpr ProblemEntry entry(const ProblemType type, const char *name, const char *section) {
  return {type, name, section, &P::Parameters::declare_parameters, &parse_and_build<P>};
}
const ProblemEntry problem_types[] = {
    entry<SparseDeconvolution>(ProblemType::sparse_deconvolution, "sparse deconvolution",
                               "Sparse deconvolution"),
    entry<TwoLayerNetwork>(ProblemType::two_layer_network, "two-layer network",
                           "Two-layer network"),
    entry<LinearFeatures>(ProblemType::linear_features, "linear features", "Linear features"),
    entry<PotentialDrift>(ProblemType::potential_drift, "potential drift", "Potential drift"),
};

const ProblemEntry &registry_entry(const ProblemType type) {
  for (const ProblemEntry &t : problem_types)
    if (t.type == type)
      return t;
  throw std::logic_error("a problem type missing from the registry");
}
} // namespace

std::string to_string(const ProblemType type) {
  return registry_entry(type).name;
}

std::string subsection_name(const ProblemType type) {
  return registry_entry(type).section;
}

void ProblemParameters::declare_parameters(dealii::ParameterHandler &prm) {
  std::string names;
  for (const ProblemEntry &t : problem_types)
    names += (names.empty() ? "" : "|") + std::string(t.name);
  prm.enter_subsection("Problem");
  prm.declare_entry(
      "Type", "sparse deconvolution", dealii::Patterns::Selection(names),
      "The learning problem whose mean-field gradient flow is solved (doc/theory.md §3): "
      "sparse deconvolution (BLASSO on the torus, d = 2), two-layer network "
      "(teacher-student, d = 1 + input dimension [+1 with a bias]), linear features "
      "(exact solution E2) or potential drift (exact solution E1). Each has its own "
      "subsection below.");
  for (const ProblemEntry &t : problem_types) {
    prm.enter_subsection(t.section);
    t.declare(prm);
    prm.leave_subsection();
  }
  prm.leave_subsection();
}

void ProblemParameters::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Problem");
  const std::string name = prm.get("Type");
  prm.leave_subsection();
  for (const ProblemEntry &t : problem_types)
    if (name == t.name) {
      type = t.type;
      return;
    }
  throw InputError("Problem/Type = " + name + ": unknown problem."); // (the pattern)
}

std::unique_ptr<Problem> create_problem(dealii::ParameterHandler &prm, MPI_Comm communicator) {
  ProblemParameters problem;
  problem.parse_parameters(prm);
  const ProblemEntry &t = registry_entry(problem.type);
  return t.build(prm, t.section, communicator);
}
} // namespace MeanField
