// What FiniteVolumeSolver hands out of its state: L1 errors, the mean, the kernel cloud and the
// VTK frames of the density, F' and the velocity.
#include <meanfield/base/parallel.h>
#include <meanfield/io/checked_file.h>
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/numerics/data_out.h>

#include <cmath>
#include <filesystem>

namespace MeanField {
using namespace dealii;

template <int dim>
void FiniteVolumeSolver<dim>::update_cloud(const double *local_density) const {
  for (unsigned int c = 0; c < n_owned; ++c)
    kernel_cloud.weights[c] = local_density[c] * (faces ? faces->volume[c] : cell_volume);
}

template <int dim>
double
FiniteVolumeSolver<dim>::l1_error(const std::function<double(const Point<dim> &)> &exact) const {
  const QGauss<dim> quadrature(prm.quadrature_points);
  const MappingQ1<dim> mapping; // FEValues keeps a pointer to it
  FEValues<dim> fe_values(mapping, fe, quadrature, update_quadrature_points | update_JxW_values);
  ghosted = rho;
  LocalForm local(ghosted);
  std::vector<types::global_dof_index> index(1);
  const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
  double error = 0.0;
  for (const auto &cell : dof_handler.active_cell_iterators()) {
    if (!cell->is_locally_owned())
      continue;
    fe_values.reinit(cell);
    double integral = 0.0;
    for (unsigned int q = 0; q < quadrature.size(); ++q)
      integral += exact(fe_values.quadrature_point(q)) * fe_values.JxW(q);
    cell->get_dof_indices(index);
    error += std::abs(local.data()[index[0] - first] * cell->measure() - integral);
  }
  return Utilities::MPI::sum(error, comm);
}

template <int dim>
std::optional<double> FiniteVolumeSolver<dim>::exact_l1_error() const {
  const std::optional<AffineFlow> flow = the_problem.exact_flow(current_time, initial_mean);
  if (!flow)
    return std::nullopt;
  auto rho0 = [&](const double *theta) { // μ0 is the expression restricted to the box
    Point<dim> p;
    for (unsigned int i = 0; i < dim; ++i) {
      if (theta[i] < lower[i] || theta[i] > upper[i])
        return 0.0;
      p[i] = theta[i];
    }
    return initial_density(p) / initial_mass;
  };
  return l1_error([&](const Point<dim> &p) { return flow->density(rho0, &p[0]); });
}

template <int dim>
void FiniteVolumeSolver<dim>::cell_volumes(PETScWrappers::MPI::Vector &volumes) const {
  OwnedValues values(volumes);
  for (unsigned int c = 0; c < n_owned; ++c)
    values.data()[c] = faces ? faces->volume[c] : cell_volume;
}

template <int dim>
Point<dim> FiniteVolumeSolver<dim>::mean() const {
  ghosted = rho;
  LocalForm local(ghosted);
  update_cloud(local.data());
  std::vector<double> moments(dim + 1, 0.0);
  for (unsigned int c = 0; c < n_owned; ++c) {
    moments[dim] += kernel_cloud.weights[c];
    for (unsigned int i = 0; i < dim; ++i)
      moments[i] += kernel_cloud.weights[c] * centres[c][i];
  }
  Utilities::MPI::sum(moments, comm, moments);
  Point<dim> m;
  for (unsigned int i = 0; i < dim; ++i)
    m[i] = moments[i] / moments[dim];
  return m;
}

template <int dim>
const WeightedCloud &FiniteVolumeSolver<dim>::cloud() const {
  ghosted = rho;
  LocalForm local(ghosted);
  update_cloud(local.data());
  return kernel_cloud;
}

template <int dim>
std::string FiniteVolumeSolver<dim>::write_vtu(const std::string &directory,
                                               const unsigned int index) const {
  ghosted = rho;
  // Cell fields from the last prepare_step(): F' and the velocity −∇F' at the cell centres.
  Vector<double> first_variation(mesh->n_active_cells()), rank(mesh->n_active_cells()),
      level(mesh->n_active_cells());
  std::vector<double> centre_values(n_owned), centre_gradients(n_owned * dim);
  if (n_owned > 0)
    objective.first_variation(last_state, centres, centre_values.data(), centre_gradients.data());
  PETScWrappers::MPI::Vector velocity(vector_dof_handler.locally_owned_dofs(), comm);
  std::vector<types::global_dof_index> index_scalar(1), index_vector(dim);
  const types::global_dof_index first = n_owned > 0 ? owned.nth_index_in_set(0) : 0;
  auto vector_cell = vector_dof_handler.begin_active();
  for (auto cell = dof_handler.begin_active(); cell != dof_handler.end(); ++cell, ++vector_cell) {
    if (!cell->is_locally_owned())
      continue;
    cell->get_dof_indices(index_scalar);
    vector_cell->get_dof_indices(index_vector);
    const unsigned int c = index_scalar[0] - first;
    first_variation[cell->active_cell_index()] = centre_values[c];
    rank[cell->active_cell_index()] = Utilities::MPI::this_mpi_process(comm);
    level[cell->active_cell_index()] = faces ? faces->level[c] : 0;
    for (unsigned int i = 0; i < dim; ++i)
      velocity[index_vector[i]] = -centre_gradients[c * dim + i];
  }
  velocity.compress(VectorOperation::insert);

  DataOut<dim> data_out;
  data_out.attach_triangulation(*mesh);
  data_out.add_data_vector(dof_handler, ghosted, "density");
  const std::vector<std::string> names(dim, "velocity");
  const std::vector<DataComponentInterpretation::DataComponentInterpretation> interpretation(
      dim, DataComponentInterpretation::component_is_part_of_vector);
  data_out.add_data_vector(vector_dof_handler, velocity, names, interpretation);
  data_out.add_data_vector(first_variation, "first_variation", DataOut<dim>::type_cell_data);
  data_out.add_data_vector(rank, "mpi_rank", DataOut<dim>::type_cell_data);
  data_out.add_data_vector(level, "level", DataOut<dim>::type_cell_data);
  data_out.build_patches();
  // deal.II compresses with zlib's best (slowest) level by default: seconds per frame at 64k cells
  DataOutBase::VtkFlags flags;
  flags.compression_level = DataOutBase::VtkFlags::best_speed;
  data_out.set_flags(flags);
  const std::string folder = directory + "/solution/";
  const unsigned int my_rank = Utilities::MPI::this_mpi_process(comm);
  std::error_code code;
  if (my_rank == 0)
    std::filesystem::create_directories(folder, code);
  throw_if_any_failed(code ? folder + ": " + code.message() : "",
                      "Could not write the solution: ", comm);
  // each rank its piece, then rank 0 the record naming them: written and checked by us (a full
  // disk must not leave a cut frame behind, nor a record naming one)
  const std::string stem = "solution_" + Utilities::int_to_string(index, 5);
  const std::string piece_error =
      write_file(folder + stem + "." + Utilities::int_to_string(my_rank) + ".vtu",
                 [&](std::ostream &out) { data_out.write_vtu(out); });
  throw_if_any_failed(piece_error, "Could not write the solution: ", comm);
  std::string error;
  if (my_rank == 0) {
    std::vector<std::string> pieces;
    for (unsigned int r = 0; r < Utilities::MPI::n_mpi_processes(comm); ++r)
      pieces.push_back(stem + "." + Utilities::int_to_string(r) + ".vtu");
    error = write_file(folder + stem + ".pvtu",
                       [&](std::ostream &out) { data_out.write_pvtu_record(out, pieces); });
  }
  throw_if_any_failed(error, "Could not write the solution: ", comm);
  return "solution/" + stem + ".pvtu";
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template void FiniteVolumeSolver<dim>::update_cloud(const double *) const;                       \
  template double FiniteVolumeSolver<dim>::l1_error(                                               \
      const std::function<double(const Point<dim> &)> &) const;                                    \
  template std::optional<double> FiniteVolumeSolver<dim>::exact_l1_error() const;                  \
  template Point<dim> FiniteVolumeSolver<dim>::mean() const;                                       \
  template void FiniteVolumeSolver<dim>::cell_volumes(PETScWrappers::MPI::Vector &) const;         \
  template const WeightedCloud &FiniteVolumeSolver<dim>::cloud() const;                            \
  template std::string FiniteVolumeSolver<dim>::write_vtu(const std::string &, unsigned int) const;
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
