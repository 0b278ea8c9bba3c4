#pragma once
// Test problems of the mean-field Langevin dynamics (M12–M13): the Ornstein–Uhlenbeck flow with
// its exact Gaussian law, its L1 errors and observed orders, and sparse deconvolution at a
// temperature τ between walls.
#include "pde_test_helpers.h"

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace MeanField::testing {
inline bool root() {
  return dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
}

// The Ornstein–Uhlenbeck problem: E1 (V = ½ Σ K_i (θ_i − c_i)², no data) with temperature τ and
// μ0 = N(m0, s² I). Its law stays Gaussian: mean c + e^{−K_i t}(m0 − c), variance
// e^{−2K_i t} s² + (τ/K_i)(1 − e^{−2K_i t}).
struct OrnsteinUhlenbeck {
  std::vector<double> K, m0;
  double s, tau, half_width;

  std::string text(const unsigned int subdivisions, const unsigned int refinement,
                   const double end_time, const std::string &extra = "") const {
    const unsigned int d = K.size();
    std::ostringstream prm;
    prm.precision(17);
    prm << "set Dimension = " << d
        << "\nsubsection Problem\n set Type = potential drift\n subsection Potential drift\n"
           "  set Stiffness = "
        << list(K) << "\n  set Center = "
        << (d == 1   ? "0"
            : d == 2 ? "0, 0"
                     : "0, 0, 0")
        << "\n  set Box half-width = " << half_width
        << "\n end\nend\nsubsection Dynamics\n set Type = langevin\n set Temperature = " << tau
        << "\nend\nsubsection Initial condition\n set Density = exp(-((x - a)^2"
        << (d > 1 ? " + (y - b)^2" : "") << ") / (2 * s^2))\n set Function constants = a=" << m0[0]
        << (d > 1 ? ", b=" + std::to_string(m0[1]) : "") << ", s=" << s
        << "\nend\nsubsection Discretization\n set Reconstruction = first order\nend\n"
           "subsection Mesh\n set Subdivisions = "
        << subdivisions << "\n set Global refinements = " << refinement
        << "\nend\nsubsection Time stepping\n set End time = " << end_time
        << "\n set CFL number = 0.5\n set Integrator = ssp-rk3\nend\n"
        << extra;
    return prm.str();
  }
  static std::string list(const std::vector<double> &v) {
    std::ostringstream out;
    out.precision(17);
    for (std::size_t i = 0; i < v.size(); ++i)
      out << (i ? ", " : "") << v[i];
    return out.str();
  }
  double mean(const unsigned int i, const double t) const { return std::exp(-K[i] * t) * m0[i]; }
  double variance(const unsigned int i, const double t) const {
    const double decay = std::exp(-2.0 * K[i] * t);
    return decay * s * s + tau / K[i] * (1.0 - decay);
  }
  template <int dim>
  double density(const dealii::Point<dim> &p, const double t) const {
    double value = 1.0;
    for (unsigned int i = 0; i < dim; ++i) {
      const double v = variance(i, t), z = p[i] - mean(i, t);
      value *= std::exp(-z * z / (2.0 * v)) / std::sqrt(2.0 * M_PI * v);
    }
    return value;
  }
};

inline const OrnsteinUhlenbeck ou_1d{{1.5}, {0.3}, 0.12, 0.02, 1.5};
inline const OrnsteinUhlenbeck ou_2d{{1.0, 2.0}, {0.3, -0.2}, 0.12, 0.02, 1.2};

template <int dim>
double ou_l1_error(const OrnsteinUhlenbeck &ou, const unsigned int subdivisions,
                   const unsigned int refinement, const std::string &extra = "") {
  PdeSetup<dim> setup(ou.text(subdivisions, refinement, 0.25, extra));
  if (setup.pde.implicit()) // fixed steps of Initial time step
    while (setup.solver->time() < setup.pde.end_time - 1e-12) {
      setup.solver->prepare_step();
      setup.solver->implicit_step(
          std::min(setup.pde.initial_step, setup.pde.end_time - setup.solver->time()));
    }
  else
    setup.run_to_end();
  const double t = setup.solver->time();
  return setup.solver->l1_error([&](const dealii::Point<dim> &p) { return ou.density(p, t); });
}

template <int dim>
void expect_ou_order(const OrnsteinUhlenbeck &ou, const unsigned int subdivisions,
                     const unsigned int n_meshes, const double min_order,
                     const std::function<std::string(unsigned int)> &extra_of = {}) {
  const std::string extra = extra_of ? extra_of(0) : "";
  std::vector<double> errors;
  std::ostringstream table;
  for (unsigned int r = 0; r < n_meshes; ++r) {
    errors.push_back(ou_l1_error<dim>(ou, subdivisions, r, extra_of ? extra_of(r) : ""));
    table << "  " << subdivisions * (1u << r) << " cells/direction: L1 error " << errors[r];
    if (r > 0)
      table << "  order " << std::log2(errors[r - 1] / errors[r]);
    table << "\n";
  }
  if (root())
    std::cout << "Ornstein-Uhlenbeck " << dim << "D" << (extra.empty() ? "" : " (" + extra + ")")
              << ":\n"
              << table.str();
  for (unsigned int r = 1; r < n_meshes; ++r)
    EXPECT_GE(std::log2(errors[r - 1] / errors[r]), min_order) << table.str();
}
// Sparse deconvolution between walls in r with temperature τ: a nonlinear F' (the data term),
// periodic x, confinement by the walls.
inline std::string langevin_deconvolution(const std::string &scheme, const double tau,
                                          const unsigned int subdivisions = 16,
                                          const std::string &extra = "") {
  return "set Dimension = 2\nsubsection Problem\n  set Type = sparse deconvolution\n  subsection "
         "Sparse deconvolution\n    set Minimum weight = 0.2\n    set Maximum weight = 0.4\n"
         "    set Weight bound = 3\n  end\nend\nsubsection Dynamics\n set Type = langevin\n"
         " set Temperature = " +
         std::to_string(tau) +
         "\nend\nsubsection Discretization\n set Reconstruction = first order\nend\n"
         "subsection Mesh\n  set Subdivisions = " +
         std::to_string(subdivisions) +
         "\n  set Global refinements = 1\nend\nsubsection Time stepping\n  set Scheme = " + scheme +
         "\n  set Step tolerance = 0\n" + extra + "end\n";
}
} // namespace MeanField::testing
