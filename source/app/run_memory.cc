#include <meanfield/app/run_memory.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace MeanField::RunMemory {
void add_data(MemoryEstimate &memory, const Problem &problem) {
  const Dataset &data = problem.objective().data();
  const double n = data.size(), p = data.input_dim;
  // inputs, y, rho, the kernel state; for p > 4 the two-layer kernel's 512 × n block matrices
  std::string section = problem.name();
  section[0] = static_cast<char>(std::toupper(section[0]));
  memory.add("data (every rank)", 8.0 * n * (p + 6) + (p > 4 ? 8.0 * 2 * 512 * n : 0.0),
             "Problem/" + section + "/Number of samples");
}

void add_mesh(MemoryEstimate &memory, const PdeParameters &pde, const unsigned int dim,
              const unsigned int n_ranks, const unsigned int extra_refinements,
              const std::string &what) {
  double cells = 1.0;
  for (const double n : pde.cells_per_direction(dim))
    cells *= std::ldexp(n, int(extra_refinements));
  const double per_cell = dim == 1 ? 600.0 : dim == 2 ? 900.0 : 1300.0;
  std::ostringstream count;
  count << std::setprecision(3) << cells;
  memory.add(what + " (" + count.str() + " cells)", cells * per_cell / (dim == 1 ? 1 : n_ranks),
             "Mesh/Subdivisions, Mesh/Global refinements");
}

void add_particles(MemoryEstimate &memory, const double m, const unsigned int d,
                   const unsigned int n_ranks, const std::string &entry) {
  memory.add("particles", 8.0 * m * (12.0 * d + 8) / n_ranks,
             entry + " (and the dimension d = " + std::to_string(d) + ")");
}

void add_metrics(MemoryEstimate &memory, const double m, const double cells) {
  memory.add("distances (every rank)", 32.0 * (m + cells),
             "Particles/Number of particles, the mesh");
}

void add_evaluation_grid(MemoryEstimate &memory, const unsigned int points_per_direction,
                         const unsigned int d, const unsigned int n_ranks) {
  if (d > 3)
    return;
  const double points = std::pow(double(points_per_direction), double(d));
  memory.add("mu0 grid", 8.0 * points * (3.0 * d + 4) / n_ranks, "Evaluation/Points per direction");
}
} // namespace MeanField::RunMemory
