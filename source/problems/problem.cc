#include <meanfield/base/exceptions.h>
#include <meanfield/base/memory.h>
#include <meanfield/problems/exact_solutions.h>
#include <meanfield/problems/problem.h>
#include <meanfield/problems/sparse_deconvolution.h>
#include <meanfield/problems/two_layer_network.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <cstdlib>

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

// The problem registry: Problem/Type, its subsection, how to declare its entries and build it.
struct ProblemType {
  const char *type, *section;
  void (*declare)(dealii::ParameterHandler &);
  std::unique_ptr<Problem> (*build)(dealii::ParameterHandler &, const std::string &, MPI_Comm);
};
template <typename P>
constexpr ProblemType entry(const char *type, const char *section) {
  return {type, section, &P::Parameters::declare_parameters, &parse_and_build<P>};
}
const ProblemType problem_types[] = {
    entry<SparseDeconvolution>("sparse deconvolution", "Sparse deconvolution"),
    entry<TwoLayerNetwork>("two-layer network", "Two-layer network"),
    entry<LinearFeatures>("linear features", "Linear features"),
    entry<PotentialDrift>("potential drift", "Potential drift"),
};
} // namespace

void ProblemParameters::declare_parameters(dealii::ParameterHandler &prm) {
  std::string names;
  for (const ProblemType &t : problem_types)
    names += (names.empty() ? "" : "|") + std::string(t.type);
  prm.enter_subsection("Problem");
  prm.declare_entry(
      "Type", "sparse deconvolution", dealii::Patterns::Selection(names),
      "The learning problem whose mean-field gradient flow is solved (doc/theory.md §3): "
      "sparse deconvolution (BLASSO on the torus, d = 2), two-layer network "
      "(teacher-student, d = 1 + input dimension [+1 with a bias]), linear features "
      "(exact solution E2) or potential drift (exact solution E1). Each has its own "
      "subsection below.");
  for (const ProblemType &t : problem_types) {
    prm.enter_subsection(t.section);
    t.declare(prm);
    prm.leave_subsection();
  }
  prm.leave_subsection();
}

void ProblemParameters::parse_parameters(dealii::ParameterHandler &prm) {
  prm.enter_subsection("Problem");
  type = prm.get("Type");
  prm.leave_subsection();
}

std::unique_ptr<Problem> create_problem(dealii::ParameterHandler &prm, MPI_Comm communicator) {
  ProblemParameters problem;
  problem.parse_parameters(prm);
  for (const ProblemType &t : problem_types)
    if (problem.type == t.type)
      return t.build(prm, t.section, communicator);
  throw InputError("Problem/Type = " + problem.type + ": unknown problem."); // (the pattern)
}
} // namespace MeanField
