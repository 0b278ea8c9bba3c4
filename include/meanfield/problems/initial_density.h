#pragma once

#include <meanfield/objective/weighted_cloud.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/function_parser.h>
#include <deal.II/base/point.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace MeanField {
/**
 * `Initial condition/Function constants` ("name=value, name=value") as a map, with pi. Throws
 * InputError for a name that is not an identifier, is a coordinate (@p variables) or is defined
 * twice (pi included), and for a value that is not a finite number.
 */
std::map<std::string, double> parse_function_constants(const std::string &text,
                                                       const std::vector<std::string> &variables);

/**
 * The initial law μ0 of a problem in d = dim ≤ 3: a function-parser expression in
 * the problem's coordinate names (or the problem's default), evaluated on its box.
 * Not normalised: discretizations normalise to mass 1.
 */
template <int dim>
class InitialDensity {
public:
  /// @p expression "default" takes the problem's own μ0. Throws InputError on a parse error.
  InitialDensity(const Problem &problem, const std::string &expression,
                 const std::string &constants);

  double value(const dealii::Point<dim> &theta) const { return parser->value(theta); }
  const std::string &expression() const { return text; }

  /**
   * Midpoint discretization on the N^dim uniform grid of the box: the cloud of cell
   * midpoints with masses ρ0(midpoint)·|cell|, normalised to total mass 1. Each rank
   * gets a contiguous range of the cells. Collective. Throws InputError if ρ0 is
   * negative or not finite at a midpoint, or integrates to zero.
   */
  WeightedCloud midpoint_cloud(unsigned int points_per_direction, MPI_Comm communicator) const;

private:
  std::string text;
  Domain box;
  std::unique_ptr<dealii::FunctionParser<dim>> parser;
};
} // namespace MeanField
