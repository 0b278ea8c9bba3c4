#include <meanfield/base/exceptions.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/pde/transport_solver.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace MeanField {
std::string to_string(const BoundaryType b) {
  return enum_name(boundary_names, b);
}
std::string to_string(const TimeScheme s) {
  return enum_name(scheme_names, s);
}
std::string to_string(const Reconstruction r) {
  return enum_name(reconstruction_names, r);
}
std::string to_string(const FaceVelocity v) {
  return enum_name(face_velocity_names, v);
}
std::string to_string(const RungeKutta i) {
  return enum_name(runge_kutta_names, i);
}

using namespace dealii;

namespace {
void declare_mesh(ParameterHandler &prm) {
  prm.enter_subsection("Mesh");
  prm.declare_entry(
      "Subdivisions", "16", Patterns::List(Patterns::Integer(1, 100000), 1, 3),
      "Coarse cells per direction of the box: one value for all directions, or one "
      "per direction. The mesh is this coarse mesh refined Global refinements times.");
  prm.declare_entry("Global refinements", "2", Patterns::Integer(0, 20),
                    "Each refinement halves the cell size h in every direction.");
  prm.declare_entry(
      "Lower bounds", "", Patterns::List(Patterns::Double(), 0, 3),
      "Lower corner of the box, one value per direction. Empty: the problem's box, shifted by "
      "half a cell of the final mesh in every direction where V has a kink (the l1 penalty "
      "lambda |r| of sparse deconvolution at r = 0), so that the kink lies on a row of cell "
      "centres: mass trapped on a kink must not be split by a face, or the discrete stationary "
      "state is wrong (doc/theory.md, section 4). Explicit bounds that put a kink anywhere but on "
      "cell centres are refused, with the corrected bounds in the message.");
  prm.declare_entry("Upper bounds", "", Patterns::List(Patterns::Double(), 0, 3),
                    "Upper corner of the box, one value per direction. Empty: the problem's box "
                    "(shifted like Lower bounds where V has a kink).");
  prm.declare_entry(
      "Boundary conditions", "",
      Patterns::List(Patterns::Selection(enum_selection(boundary_names)), 0, 3),
      "One per direction: periodic (only where the problem is periodic, e.g. the position x of "
      "sparse deconvolution), no-flux (zero normal flux: mass stays in the box), or outflow "
      "(mass leaving through the boundary is removed, counted and reported in the statistics). "
      "Empty: periodic where the problem is periodic, no-flux elsewhere.");
  RefinementParameters::declare_parameters(prm);
  prm.leave_subsection();
}

void declare_discretization(ParameterHandler &prm) {
  prm.enter_subsection("Discretization");
  prm.declare_entry(
      "Reconstruction", "minmod", Patterns::Selection(enum_selection(reconstruction_names)),
      "Face values of the density for the upwind flux (doc/theory.md §4): first order (the cell "
      "average; positive for CFL <= 1) or MUSCL with the minmod limiter (second order "
      "on smooth solutions; positive for CFL <= 1/2).");
  prm.declare_entry(
      "Face velocity", "exact", Patterns::Selection(enum_selection(face_velocity_names)),
      "u_f = -grad F'(theta_f) . n_f at the face centre (exact: the kernel's analytic "
      "gradient), or -(F'(theta_N) - F'(theta_P)) / |theta_N - theta_P| between the "
      "two cell centres (discrete gradient: gives a discrete energy-dissipation law).");
  prm.declare_entry("Quadrature points", "3", Patterns::Integer(1, 10),
                    "Gauss points per direction used to compute the cell masses of mu0 (and the "
                    "cell averages of exact solutions).");
  prm.leave_subsection();
}

void declare_time_stepping(ParameterHandler &prm) {
  prm.enter_subsection("Time stepping");
  prm.declare_entry("Integrator", "ssp-rk2", Patterns::Selection(enum_selection(runge_kutta_names)),
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
  prm.declare_entry(
      "Stationarity tolerance", "0", Patterns::Double(0),
      "Stop once the stationarity residual ||d rho_h/dt||_L1 = sum_K |K| |L(rho_h)_K| "
      "(doc/theory.md (M9h): the mass the fluxes move per unit time; column 'residual' of the "
      "statistics) falls below this value. 0: run to End time.");
  prm.declare_entry(
      "Scheme", "explicit", Patterns::Selection(enum_selection(scheme_names)),
      "explicit: the SSP Runge-Kutta method of Integrator with the CFL step. linearly implicit: "
      "the upwind step (M10) with the face velocities of the old state frozen, one kernel "
      "evaluation, one sparse assembly and one PETSc Krylov solve per step; positive and "
      "conservative for every step, first order in time and space (Reconstruction = first "
      "order), the step set by accuracy (Step tolerance), not by the CFL condition. implicit: "
      "backward "
      "Euler with the velocity of the new state (M10b), solved by Jacobian-free Newton-Krylov "
      "(PETSc SNES, the linearly implicit matrix as preconditioner): no feedback limit on the "
      "step, so steps grow without bound towards a stationary state; conservative, positive "
      "up to the Newton tolerance (a step with a negative density is retried shorter).");
  prm.declare_entry(
      "Step tolerance", "0.1", Patterns::Double(0),
      "Linearly implicit and implicit: a step dt is accepted when the change of the face "
      "velocities over the step would move mass by at most this many cells, "
      "dt max_f |u_f(rho^{n+1}) - u_f(rho^n)| / h (doc/theory.md (M10a)); the next step is "
      "dt min(0.9 sqrt(tol / delta), 1 + cos) within [0.5, 2], cos the cosine between this "
      "and the last step's density change (near -1: the lagged velocity oscillates), or the "
      "step is retried shorter. The maximum runs over every face, empty ones too: for the way "
      "to a stationary state with Scheme = implicit, values of 1 to 5 lose little. 0: fixed "
      "steps of Initial time step.");
  prm.declare_entry(
      "Initial time step", "0", Patterns::Double(0),
      "Linearly implicit and implicit: the first step (with Step tolerance = 0, every "
      "step). 0: "
      "the CFL step of mu0 with CFL number.");
  prm.declare_entry("Maximum time step", "0", Patterns::Double(0),
                    "Linearly implicit and implicit: no step is longer. 0: no bound but the output "
                    "times.");
  prm.declare_entry(
      "Linear solver options", "", Patterns::Anything(),
      "Linearly implicit: PETSc options of the Krylov solver, e.g. -ksp_type bcgs -pc_type "
      "hypre -ksp_rtol 1e-10 -ksp_monitor. Defaults: -ksp_type gmres, block Jacobi with ILU(0) "
      "(ILU(0) on one rank), -ksp_rtol 1e-12. Implicit: PETSc options of the Newton solver and "
      "its Krylov solver, e.g. -snes_monitor -snes_linesearch_type basic -ksp_rtol 1e-3; "
      "defaults: -snes_type newtonls, -snes_rtol 1e-4, -snes_max_it 50, -ksp_type gmres, "
      "-ksp_rtol 1e-2, -pc_type jacobi. The same options on the command line, after the "
      "parameter file, override these.");
  prm.leave_subsection();
}
} // namespace

void PdeParameters::declare_parameters(ParameterHandler &prm) {
  declare_mesh(prm);
  declare_discretization(prm);
  declare_time_stepping(prm);
}

void PdeParameters::parse_parameters(ParameterHandler &prm) {
  dynamics.parse_parameters(prm);
  prm.enter_subsection("Mesh");
  subdivisions.clear();
  for (const std::string &s : Utilities::split_string_list(prm.get("Subdivisions")))
    subdivisions.push_back(Utilities::string_to_int(s));
  refinements = prm.get_integer("Global refinements");
  lower = parse_double_list(prm.get("Lower bounds"), "Mesh/Lower bounds");
  upper = parse_double_list(prm.get("Upper bounds"), "Mesh/Upper bounds");
  boundaries = Utilities::split_string_list(prm.get("Boundary conditions"));
  refinement.parse_parameters(prm);
  prm.leave_subsection();

  prm.enter_subsection("Discretization");
  reconstruction =
      parse_enum("Discretization/Reconstruction", prm.get("Reconstruction"), reconstruction_names);
  face_velocity =
      parse_enum("Discretization/Face velocity", prm.get("Face velocity"), face_velocity_names);
  quadrature_points = prm.get_integer("Quadrature points");
  prm.leave_subsection();

  prm.enter_subsection("Time stepping");
  integrator = parse_enum("Time stepping/Integrator", prm.get("Integrator"), runge_kutta_names);
  cfl = prm.get_double("CFL number");
  end_time = prm.get_double("End time");
  max_steps = prm.get_integer("Maximum number of steps");
  stationarity_tolerance = prm.get_double("Stationarity tolerance");
  scheme = parse_enum("Time stepping/Scheme", prm.get("Scheme"), scheme_names);
  step_tolerance = prm.get_double("Step tolerance");
  initial_step = prm.get_double("Initial time step");
  maximum_step = prm.get_double("Maximum time step");
  linear_solver_options = prm.get("Linear solver options");
  parse_petsc_options(linear_solver_options, "Time stepping/Linear solver options"); // the form
  prm.leave_subsection();
}
} // namespace MeanField
