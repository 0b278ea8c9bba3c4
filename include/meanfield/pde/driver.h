#pragma once

#include <meanfield/app/parameters.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>

#include <deal.II/base/conditional_ostream.h>

namespace MeanField {
/**
 * Run mode = pde: solve (M5) from μ0 to End time (or stationarity), writing
 * `<output>/statistics` (one row per step), `<output>/solution.pvd` + `<output>/solution/`
 * at the output times, a progress line and a timer summary.
 */
template <int dim>
void run_pde(FiniteVolumeSolver<dim> &solver, const RunParameters &run, const PdeParameters &pde,
             MPI_Comm communicator, dealii::ConditionalOStream &pcout);
} // namespace MeanField
