#pragma once
// The particle runs of a study (Run mode = study without its tables), from .prm text.
#include "pde_test_helpers.h"

#include <meanfield/compare/comparison.h>
#include <meanfield/compare/study.h>
#include <meanfield/particles/parameters.h>

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/parameter_handler.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace MeanField::testing {
/// The text of tests/prm/@p name.
inline std::string test_prm(const std::string &name) {
  std::ifstream file(std::string(MEANFIELD_SOURCE_DIR) + "/tests/prm/" + name);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

/// Every particle run of the study that @p text describes (its Study/Times, else the End time),
/// compared with one PDE run on @p comm, as `Run mode = study` records them.
template <int dim>
std::vector<StudyRecord> study_records(const std::string &text, MPI_Comm comm) {
  PdeSetup<dim> pde(text, comm);
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(text);
  ParticleParameters particles;
  particles.parse_parameters(prm);
  ComparisonParameters comparison;
  comparison.parse_parameters(prm);
  StudyParameters study;
  study.parse_parameters(prm);
  study.check_consistency(*pde.problem, pde.pde, particles);
  dealii::ConditionalOStream quiet(std::cout, false);
  const std::vector<double> times =
      study.times.empty() ? std::vector<double>{pde.pde.end_time} : study.times;
  const std::vector<PdeSnapshot> snapshots = pde_snapshots(*pde.solver, pde.pde, times);
  std::vector<StudyRecord> records;
  study_particles(*pde.problem, *pde.mu0, pde.pde, particles, comparison, study, snapshots, comm,
                  quiet, records);
  return records;
}
} // namespace MeanField::testing
