#include <meanfield/base/exceptions.h>
#include <meanfield/problems/initial_density.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/utilities.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

namespace MeanField {
namespace {
bool is_identifier(const std::string &name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return false;
  return std::all_of(name.begin(), name.end(), [](const char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}
} // namespace

std::map<std::string, double> parse_function_constants(const std::string &text,
                                                       const std::vector<std::string> &variables) {
  const std::string entry = "Initial condition/Function constants";
  std::map<std::string, double> constants{{"pi", M_PI}};
  for (const std::string &item : dealii::Utilities::split_string_list(text, ',')) {
    const auto pair = dealii::Utilities::split_string_list(item, '=');
    require(pair.size() == 2, entry + ": <" + item + "> is not of the form name=value.");
    const std::string &name = pair[0];
    require(is_identifier(name),
            entry + ": <" + name + "> is not a name (a letter or _, then letters, digits, _).");
    require(std::find(variables.begin(), variables.end(), name) == variables.end(),
            entry + ": <" + name + "> is a coordinate of the problem, not a constant.");
    require(!constants.count(name),
            entry + ": <" + name + "> is " + (name == "pi" ? "predefined." : "defined twice."));
    char *end = nullptr;
    const double value = std::strtod(pair[1].c_str(), &end);
    require(!pair[1].empty() && end != nullptr && *end == '\0' && std::isfinite(value),
            entry + ": the value of " + name + ", <" + pair[1] + ">, is not a finite number.");
    constants[name] = value;
  }
  return constants;
}

template <int dim>
InitialDensity<dim>::InitialDensity(const Problem &problem, const std::string &expression,
                                    const std::string &constants)
    : text(expression == "default" ? problem.default_initial_density() : expression)
    , box(problem.domain())
    , parser(std::make_unique<dealii::FunctionParser<dim>>(1)) {
  require(problem.dimension() == dim, "InitialDensity: dimension mismatch.");
  require(!text.empty(), "Initial condition/Density: the " + problem.name() +
                             " problem has no default density in d = " + std::to_string(dim) +
                             "; give an expression.");
  const std::map<std::string, double> constant_map =
      parse_function_constants(constants, problem.coordinate_names());
  std::string variables;
  for (const std::string &name : problem.coordinate_names())
    variables += (variables.empty() ? "" : ",") + name;
  try {
    parser->initialize(variables, text, constant_map);
    // muparser reports some errors only on the first evaluation
    parser->value(dealii::Point<dim>());
  } catch (const dealii::ExceptionBase &e) {
    std::ostringstream message;
    e.print_info(message);
    throw InputError("Initial condition/Density = " + text +
                     " cannot be parsed in the variables (" + variables +
                     "): " + dealii::Utilities::trim(message.str()));
  } catch (...) { // muparser's own exceptions are not std::exceptions
    throw InputError("Initial condition/Density = " + text +
                     " cannot be parsed in the variables (" + variables +
                     ") with the Function constants <" + constants + ">.");
  }
}

template <int dim>
WeightedCloud InitialDensity<dim>::midpoint_cloud(const unsigned int N,
                                                  MPI_Comm communicator) const {
  std::size_t n_cells = 1;
  double cell_volume = 1.0;
  for (unsigned int i = 0; i < dim; ++i) {
    n_cells *= N;
    cell_volume *= (box.upper[i] - box.lower[i]) / N;
  }
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(communicator);
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(communicator);
  const std::size_t begin = n_cells * rank / n_ranks, end = n_cells * (rank + 1) / n_ranks;

  WeightedCloud cloud(dim);
  double local_mass = 0.0;
  std::string problem_at;
  for (std::size_t c = begin; c < end; ++c) {
    dealii::Point<dim> theta;
    std::size_t index = c;
    for (unsigned int i = 0; i < dim; ++i, index /= N)
      theta[i] = box.lower[i] + (index % N + 0.5) * (box.upper[i] - box.lower[i]) / N;
    const double rho = parser->value(theta);
    if (!(std::isfinite(rho) && rho >= 0) && problem_at.empty()) {
      std::ostringstream where;
      where << "is " << rho << " at (" << theta << ")";
      problem_at = where.str();
    }
    const double mass = rho * cell_volume;
    cloud.push_back(&theta[0], mass);
    local_mass += mass;
  }
  // Every rank learns of a bad value anywhere, so that all of them stop together.
  const bool bad_here = !problem_at.empty();
  const bool bad = dealii::Utilities::MPI::logical_or(bad_here, communicator);
  if (bad) {
    const unsigned int first = dealii::Utilities::MPI::min(bad_here ? rank : n_ranks, communicator);
    problem_at = dealii::Utilities::MPI::broadcast(communicator, problem_at, first);
    throw InputError("Initial condition/Density = " + text +
                     " must be finite and non-negative, but " + problem_at + ".");
  }
  const double total = dealii::Utilities::MPI::sum(local_mass, communicator);
  require(total > 0, "Initial condition/Density = " + text +
                         " integrates to zero on the problem's box: it must have positive mass.");
  for (double &w : cloud.weights)
    w /= total;
  return cloud;
}

template class InitialDensity<1>;
template class InitialDensity<2>;
template class InitialDensity<3>;
} // namespace MeanField
