#include <meanfield/base/exceptions.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/utilities.h>

#include <sstream>

namespace MeanField {
using namespace dealii;

void PdeParameters::declare_parameters(ParameterHandler &prm) {
  prm.enter_subsection("Mesh");
  prm.declare_entry(
      "Subdivisions", "16", Patterns::List(Patterns::Integer(1, 100000), 1, 3),
      "Coarse cells per direction of the box: one value for all directions, or one "
      "per direction. The mesh is this coarse mesh refined Global refinements times.");
  prm.declare_entry("Global refinements", "2", Patterns::Integer(0, 20),
                    "Each refinement halves the cell size h in every direction.");
  prm.declare_entry("Lower bounds", "", Patterns::List(Patterns::Double(), 0, 3),
                    "Lower corner of the box, one value per direction. Empty: the problem's box.");
  prm.declare_entry("Upper bounds", "", Patterns::List(Patterns::Double(), 0, 3),
                    "Upper corner of the box, one value per direction. Empty: the problem's box.");
  prm.declare_entry(
      "Boundary conditions", "",
      Patterns::List(Patterns::Selection("periodic|no-flux|outflow"), 0, 3),
      "One per direction: periodic (only where the problem is periodic, e.g. the position x of "
      "sparse deconvolution), no-flux (zero normal flux: mass stays in the box), or outflow "
      "(mass leaving through the boundary is removed, counted and reported in the statistics). "
      "Empty: periodic where the problem is periodic, no-flux elsewhere.");
  prm.leave_subsection();

  prm.enter_subsection("Discretization");
  prm.declare_entry(
      "Reconstruction", "minmod", Patterns::Selection("first order|minmod"),
      "Face values of the density for the upwind flux (MATH §4): first order (the cell "
      "average; positive for CFL <= 1) or MUSCL with the minmod limiter (second order "
      "on smooth solutions; positive for CFL <= 1/2).");
  prm.declare_entry(
      "Face velocity", "exact", Patterns::Selection("exact|discrete gradient"),
      "u_f = -grad F'(theta_f) . n_f at the face centre (exact: the kernel's analytic "
      "gradient), or -(F'(theta_N) - F'(theta_P)) / |theta_N - theta_P| between the "
      "two cell centres (discrete gradient: gives a discrete energy-dissipation law).");
  prm.declare_entry("Quadrature points", "3", Patterns::Integer(1, 10),
                    "Gauss points per direction used to compute the cell masses of mu0 (and the "
                    "cell averages of exact solutions).");
  prm.leave_subsection();

  prm.enter_subsection("Time stepping");
  prm.declare_entry("Integrator", "ssp-rk2", Patterns::Selection("euler|ssp-rk2|ssp-rk3"),
                    "Explicit strong-stability-preserving Runge-Kutta method (Shu-Osher form); one "
                    "kernel evaluation per stage.");
  prm.declare_entry("CFL number", "0.4", Patterns::Double(0),
                    "C in dt = C / max_K (sum over faces of K of max(u_f, 0) |f| / |K|): the "
                    "fraction of a cell's mass that may leave it in one step. <= 1 for first "
                    "order, <= 1/2 for minmod (then the density stays non-negative).");
  prm.declare_entry("End time", "1", Patterns::Double(0),
                    "Final time of the flow (in the time of the mean-field dynamics (M5)).");
  prm.declare_entry("Maximum number of steps", "1000000", Patterns::Integer(1),
                    "Stop after this many steps even if End time is not reached.");
  prm.declare_entry("Stationarity tolerance", "0", Patterns::Double(0),
                    "Stop once the dissipation int |grad F'|^2 dmu (= -dF/dt) falls below this "
                    "value. 0: run to End time.");
  prm.leave_subsection();
}

void PdeParameters::parse_parameters(ParameterHandler &prm) {
  prm.enter_subsection("Mesh");
  subdivisions.clear();
  for (const std::string &s : Utilities::split_string_list(prm.get("Subdivisions")))
    subdivisions.push_back(Utilities::string_to_int(s));
  refinements = prm.get_integer("Global refinements");
  lower = parse_double_list(prm.get("Lower bounds"));
  upper = parse_double_list(prm.get("Upper bounds"));
  boundaries = Utilities::split_string_list(prm.get("Boundary conditions"));
  prm.leave_subsection();

  prm.enter_subsection("Discretization");
  reconstruction = prm.get("Reconstruction");
  face_velocity = prm.get("Face velocity");
  quadrature_points = prm.get_integer("Quadrature points");
  prm.leave_subsection();

  prm.enter_subsection("Time stepping");
  integrator = prm.get("Integrator");
  cfl = prm.get_double("CFL number");
  end_time = prm.get_double("End time");
  max_steps = prm.get_integer("Maximum number of steps");
  stationarity_tolerance = prm.get_double("Stationarity tolerance");
  prm.leave_subsection();
}

std::vector<double> PdeParameters::resolved_lower(const Problem &problem) const {
  return lower.empty() ? problem.domain().lower : lower;
}

std::vector<double> PdeParameters::resolved_upper(const Problem &problem) const {
  return upper.empty() ? problem.domain().upper : upper;
}

std::vector<BoundaryType> PdeParameters::resolved_boundaries(const Problem &problem) const {
  const Domain box = problem.domain();
  std::vector<BoundaryType> types;
  for (unsigned int i = 0; i < box.dim(); ++i) {
    const std::string name =
        boundaries.empty() ? (box.periodic[i] ? "periodic" : "no-flux") : boundaries[i];
    types.push_back(name == "periodic"  ? BoundaryType::periodic
                    : name == "outflow" ? BoundaryType::outflow
                                        : BoundaryType::no_flux);
  }
  return types;
}

void PdeParameters::check_consistency(const Problem &problem) const {
  const unsigned int d = problem.dimension();
  const std::string dims = std::to_string(d);
  require(d <= 3, "The PDE is solved for d <= 3, but the " + problem.name() + " problem has d = " +
                      dims + ". Use fewer input dimensions (or particles, for large d).");
  require(subdivisions.size() == 1 || subdivisions.size() == d,
          "Mesh/Subdivisions must have 1 or " + dims + " entries.");
  require(lower.size() == upper.size() && (lower.empty() || lower.size() == d),
          "Mesh/Lower bounds and Mesh/Upper bounds must both be empty or both have " + dims +
              " entries.");
  const std::vector<double> lo = resolved_lower(problem), hi = resolved_upper(problem);
  for (unsigned int i = 0; i < d; ++i)
    require(lo[i] < hi[i], "Mesh: the box is empty or inverted in direction " + std::to_string(i) +
                               " (lower " + std::to_string(lo[i]) + " >= upper " +
                               std::to_string(hi[i]) + ").");
  require(boundaries.empty() || boundaries.size() == d,
          "Mesh/Boundary conditions must be empty or have " + dims + " entries.");
  const Domain box = problem.domain();
  const auto types = resolved_boundaries(problem);
  for (unsigned int i = 0; i < d; ++i) {
    require(types[i] != BoundaryType::periodic || box.periodic[i],
            "Mesh/Boundary conditions: direction " + std::to_string(i) + " (" +
                problem.coordinate_names()[i] + ") of the " + problem.name() +
                " problem cannot be periodic. Use no-flux or outflow.");
    require(types[i] != BoundaryType::periodic || (lo[i] == box.lower[i] && hi[i] == box.upper[i]),
            "Mesh: a periodic direction must span the problem's whole period [" +
                std::to_string(box.lower[i]) + ", " + std::to_string(box.upper[i]) + "].");
  }
  require(cfl > 0 && cfl <= 1, "Time stepping/CFL number = " + std::to_string(cfl) +
                                   " must lie in (0, 1]: beyond 1 the explicit scheme is unstable "
                                   "and the density can become negative.");
  require(reconstruction != "minmod" || cfl <= 0.5,
          "Time stepping/CFL number = " + std::to_string(cfl) +
              " is too large for Reconstruction = minmod, which is positivity-preserving only for "
              "CFL <= 0.5. Use\n    set CFL number = 0.4");
}
} // namespace MeanField
