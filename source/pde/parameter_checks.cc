// PdeParameters against the problem: the mesh box (kinks of V on cell centres), the walls, the
// resolved bounds and boundary types, and every consistency check of mesh, scheme and dynamics.
#include <meanfield/base/exceptions.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace MeanField {
using namespace dealii;

std::vector<double> PdeParameters::cells_per_direction(const unsigned int d) const {
  std::vector<double> n(d);
  for (unsigned int i = 0; i < d; ++i)
    n[i] = std::ldexp(double(subdivisions.size() == 1 ? subdivisions[0] : subdivisions[i]),
                      int(refinements));
  return n;
}

namespace {
// Where @p value lies relative to the cell centres of n cells on [lo, hi], in cells: 0 on a
// centre, ±1/2 on a face.
double offset_from_centre(const double value, const double lo, const double hi, const double n) {
  const double u = (value - lo) / (hi - lo) * n - 0.5;
  return u - std::round(u);
}

std::string format_list(const std::vector<double> &values) {
  std::ostringstream out;
  out << std::setprecision(15);
  for (std::size_t i = 0; i < values.size(); ++i)
    out << (i ? ", " : "") << values[i];
  return out.str();
}

// The refusal of a box that puts a kink of V off the cell centres, with the corrected bounds.
std::string kink_message(const Problem &problem, const Kink &kink, const Domain &box,
                         const double n, const double offset) {
  const unsigned int i = kink.coordinate;
  const std::string name = problem.coordinate_names()[i];
  const double h = (box.upper[i] - box.lower[i]) / n;
  std::ostringstream out;
  out << std::setprecision(15) << "Mesh: V has a kink at " << name << " = " << kink.value << " ("
      << kink.origin << "), but the box " << name << " in [" << box.lower[i] << ", " << box.upper[i]
      << "] with " << n << " cells (h = " << h << ") puts it "
      << (std::abs(std::abs(offset) - 0.5) < 1e-9
              ? std::string("on a cell face")
              : std::to_string(std::abs(offset)) + " cells away from a cell centre")
      << ". Mass trapped at the kink then lies in cells whose centres are off the kink, drifts "
         "for ever, and the discrete stationary state is wrong (doc/theory.md, section 4). ";
  if (box.periodic[i]) {
    out << "This direction is periodic: choose Mesh/Subdivisions so that the kink lies on a "
           "cell centre.";
    return out.str();
  }
  Domain fixed = box;
  fixed.lower[i] += offset * h;
  fixed.upper[i] += offset * h;
  out << "Put it on a cell centre:\n    set Lower bounds = " << format_list(fixed.lower)
      << "\n    set Upper bounds = " << format_list(fixed.upper)
      << "\nor leave both empty (the problem's box, shifted by half a cell automatically).";
  return out.str();
}
} // namespace

Domain PdeParameters::mesh_box(const Problem &problem) const {
  const Domain natural = problem.domain();
  if (!lower.empty())
    return Domain{lower, upper, natural.periodic};
  Domain box = natural;
  const std::vector<double> n = cells_per_direction(problem.dimension());
  std::vector<bool> shifted(problem.dimension(), false);
  for (const Kink &kink : problem.kinks()) {
    const unsigned int i = kink.coordinate;
    if (box.periodic[i] || shifted[i] || !(box.lower[i] < kink.value && kink.value < box.upper[i]))
      continue; // check_kinks() refuses what a shift cannot mend
    const double shift = offset_from_centre(kink.value, box.lower[i], box.upper[i], n[i]) *
                         (box.upper[i] - box.lower[i]) / n[i];
    box.lower[i] += shift;
    box.upper[i] += shift;
    shifted[i] = true;
  }
  return box;
}

Domain PdeParameters::walls(const Problem &problem) const {
  Domain box = mesh_box(problem);
  const std::vector<BoundaryType> types = resolved_boundaries(problem);
  for (unsigned int i = 0; i < box.dim(); ++i)
    box.periodic[i] = types[i] == BoundaryType::periodic;
  return box;
}

void PdeParameters::check_kinks(const Problem &problem) const {
  const Domain box = mesh_box(problem);
  const std::vector<double> n = cells_per_direction(problem.dimension());
  for (const Kink &kink : problem.kinks()) {
    const unsigned int i = kink.coordinate;
    if (!(box.lower[i] < kink.value && kink.value < box.upper[i]))
      continue; // outside the box: no mass can reach it
    const double offset = offset_from_centre(kink.value, box.lower[i], box.upper[i], n[i]);
    require(std::abs(offset) <= 1e-9, kink_message(problem, kink, box, n[i], offset));
  }
}

std::string PdeParameters::box_summary(const Problem &problem) const {
  const Domain box = mesh_box(problem), natural = problem.domain();
  const std::vector<std::string> names = problem.coordinate_names();
  const std::vector<double> n = cells_per_direction(problem.dimension());
  std::ostringstream out;
  out << std::setprecision(10) << "mesh box:";
  for (unsigned int i = 0; i < problem.dimension(); ++i)
    out << (i ? " x " : " ") << names[i] << " in [" << box.lower[i] << ", " << box.upper[i] << "]";
  for (const Kink &kink : problem.kinks()) {
    const unsigned int i = kink.coordinate;
    const double shift = box.lower[i] - natural.lower[i];
    out << "; the kink of V at " << names[i] << " = " << kink.value << " (" << kink.origin
        << ") on a row of cell centres";
    if (lower.empty() && shift != 0.0)
      out << " (box shifted by " << shift / (box.upper[i] - box.lower[i]) * n[i] << " h in "
          << names[i] << ")";
  }
  return out.str();
}

std::vector<double> PdeParameters::resolved_lower(const Problem &problem) const {
  return mesh_box(problem).lower;
}

std::vector<double> PdeParameters::resolved_upper(const Problem &problem) const {
  return mesh_box(problem).upper;
}

std::vector<BoundaryType> PdeParameters::resolved_boundaries(const Problem &problem) const {
  const Domain box = problem.domain();
  std::vector<BoundaryType> types;
  for (unsigned int i = 0; i < box.dim(); ++i) {
    if (boundaries.empty())
      types.push_back(box.periodic[i] ? BoundaryType::periodic : BoundaryType::no_flux);
    else
      types.push_back(parse_enum("Mesh/Boundary conditions", boundaries[i], boundary_names));
  }
  return types;
}

void PdeParameters::check_solution_fits(const Problem &problem) const {
  const std::optional<Domain> required = problem.required_box();
  if (!required)
    return;
  const Domain box = mesh_box(problem);
  const std::vector<double> n = cells_per_direction(problem.dimension());
  const std::vector<BoundaryType> types = resolved_boundaries(problem);
  for (unsigned int i = 0; i < problem.dimension(); ++i) {
    // an outflow boundary is open on purpose: the mass that leaves is counted and reported
    if (types[i] != BoundaryType::no_flux ||
        (box.lower[i] <= required->lower[i] && required->upper[i] <= box.upper[i]))
      continue;
    const std::string name = problem.coordinate_names()[i];
    // the box may be shifted by half a cell: a bound one cell beyond the ground truth holds it
    const double h = (box.upper[i] - box.lower[i]) / n[i];
    const double needed = std::max(std::abs(required->lower[i]), std::abs(required->upper[i]));
    std::ostringstream out;
    out << std::setprecision(6) << "Mesh: the ground truth of the " << problem.name()
        << " problem reaches " << name << " in [" << required->lower[i] << ", "
        << required->upper[i] << "] (as a probability measure), outside the mesh box " << name
        << " in [" << box.lower[i] << ", " << box.upper[i]
        << "]: the PDE cannot represent the measure its flow should reach. ";
    if (lower.empty())
      out << "Raise " << problem.box_entry() << " to at least " << needed + h << ", e.g.\n    set "
          << problem.box_entry().substr(problem.box_entry().rfind('/') + 1) << " = "
          << std::ceil(needed + h);
    else
      out << "Widen Mesh/Lower bounds and Mesh/Upper bounds to contain it.";
    throw InputError(out.str());
  }
}

void PdeParameters::check_box(const Problem &problem) const {
  const unsigned int d = problem.dimension();
  const std::string dims = std::to_string(d);
  require(subdivisions.size() == 1 || subdivisions.size() == d,
          "Mesh/Subdivisions must have 1 or " + dims + " entries.");
  require(lower.size() == upper.size() && (lower.empty() || lower.size() == d),
          "Mesh/Lower bounds and Mesh/Upper bounds must both be empty or both have " + dims +
              " entries.");
  for (unsigned int i = 0; i < lower.size(); ++i) {
    const double width = upper[i] - lower[i];
    require(std::isfinite(width) &&
                std::max(std::abs(lower[i]), std::abs(upper[i])) <= 1e6 * std::abs(width),
            "Mesh/Lower bounds, Mesh/Upper bounds: direction " + std::to_string(i) + " [" +
                format_list({lower[i]}) + ", " + format_list({upper[i]}) +
                "] is not a usable box: its width must be finite and at least 1e-6 of its "
                "largest coordinate (cell centres must be distinct in double precision).");
  }
  const Domain box = mesh_box(problem);
  for (unsigned int i = 0; i < d; ++i)
    require(box.lower[i] < box.upper[i],
            "Mesh: the box is empty or inverted in direction " + std::to_string(i) + " (lower " +
                format_list({box.lower[i]}) + " >= upper " + format_list({box.upper[i]}) + ").");
}

void PdeParameters::check_dynamics(const std::vector<BoundaryType> &types) const {
  if (!dynamics.noisy())
    return;
  require(reconstruction == Reconstruction::first_order,
          "Discretization/Reconstruction = minmod with Dynamics/Type = langevin: the "
          "Scharfetter-Gummel flux (M13) is its own exponentially fitted scheme, second order on "
          "smooth solutions without a reconstruction; use Reconstruction = first order.");
  for (const BoundaryType type : types)
    require(type != BoundaryType::outflow,
            "Mesh/Boundary conditions = outflow with Dynamics/Type = langevin: the diffusion "
            "needs a boundary condition of its own there; use no-flux walls (the confinement "
            "of the Gibbs state) or periodic directions.");
}

void PdeParameters::check_consistency(const Problem &problem) const {
  const unsigned int d = problem.dimension();
  const std::string dims = std::to_string(d);
  require(d <= 3, "The PDE is solved for d <= 3, but the " + problem.name() + " problem has d = " +
                      dims + ". Use fewer input dimensions (or particles, for large d).");
  check_box(problem);
  check_kinks(problem);
  require(boundaries.empty() || boundaries.size() == d,
          "Mesh/Boundary conditions must be empty or have " + dims + " entries.");
  const Domain natural = problem.domain(), box = mesh_box(problem);
  const auto types = resolved_boundaries(problem);
  for (unsigned int i = 0; i < d; ++i) {
    require(types[i] != BoundaryType::periodic || natural.periodic[i],
            "Mesh/Boundary conditions: direction " + std::to_string(i) + " (" +
                problem.coordinate_names()[i] + ") of the " + problem.name() +
                " problem cannot be periodic. Use no-flux or outflow.");
    require(types[i] != BoundaryType::periodic ||
                (box.lower[i] == natural.lower[i] && box.upper[i] == natural.upper[i]),
            "Mesh: a periodic direction must span the problem's whole period [" +
                format_list({natural.lower[i]}) + ", " + format_list({natural.upper[i]}) + "].");
  }
  check_dynamics(types);
  check_refinement(d);
  if (implicit()) {
    require(
        reconstruction == Reconstruction::first_order,
        "Time stepping/Scheme = " +
            std::string(scheme == TimeScheme::backward_euler ? "implicit" : "linearly implicit") +
            " is a first-order upwind step (M10, M10b): use\n"
            "    subsection Discretization\n      set Reconstruction = first order\n    end");
    require(cfl > 0, "Time stepping/CFL number must be positive (it sets the first implicit "
                     "step when Initial time step = 0).");
    require(maximum_step == 0 || initial_step <= maximum_step,
            "Time stepping/Initial time step = " + std::to_string(initial_step) +
                " exceeds Maximum time step = " + std::to_string(maximum_step) + ".");
    return; // the CFL number bounds only the explicit steps
  }
  require(cfl > 0 && cfl <= 1, "Time stepping/CFL number = " + std::to_string(cfl) +
                                   " must lie in (0, 1]: beyond 1 the explicit scheme is unstable "
                                   "and the density can become negative.");
  require(reconstruction != Reconstruction::minmod || cfl <= 0.5,
          "Time stepping/CFL number = " + std::to_string(cfl) +
              " is too large for Reconstruction = minmod, which is positivity-preserving only for "
              "CFL <= 0.5. Use\n    set CFL number = 0.4");
}
} // namespace MeanField

namespace MeanField {
void PdeParameters::check_refinement(const unsigned int d) const {
  refinement.check(d, cfl, !implicit());
}
} // namespace MeanField
