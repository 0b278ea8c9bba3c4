// The PDE solver's ParaView output, read back with VTK's own parallel reader: each .pvtu written
// by FiniteVolumeSolver::write_vtu has the fields density, velocity (3 components), first_variation
// and mpi_rank, one VTK cell per mesh cell (no piece missing or duplicated), a density of mass 1
// (to the Float32 precision of the files), a finite non-zero velocity and, under `mpirun -np 2`,
// cells of both ranks; the solution.pvd written as the driver writes it lists the output times in
// order and only existing files.
#include <meanfield/app/parameters.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/initial_density.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <vtkCell.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLPUnstructuredGridReader.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace MeanField;
namespace fs = std::filesystem;

namespace {
const MPI_Comm comm = MPI_COMM_WORLD;
bool is_root() {
  return dealii::Utilities::MPI::this_mpi_process(comm) == 0;
}

// A fresh directory, created by rank 0, known to every rank.
std::string temporary_directory() {
  std::string name;
  if (is_root()) {
    std::string pattern = (fs::temp_directory_path() / "meanfield_vtk_XXXXXX").string();
    name = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  name = dealii::Utilities::MPI::broadcast(comm, name, 0);
  if (name.empty())
    throw std::runtime_error("cannot create a temporary directory");
  return name;
}

// A field written with DataOut::type_cell_data: VTK cell data, or (deal.II 9.4 writes it so)
// point data repeated on each cell's own points. Its value on cell c; NaN if it varies there.
double cell_value(vtkUnstructuredGrid *grid, vtkDataArray *field, const vtkIdType c) {
  if (field->GetNumberOfTuples() == grid->GetNumberOfCells())
    return field->GetTuple1(c);
  vtkCell *cell = grid->GetCell(c);
  const double value = field->GetTuple1(cell->GetPointId(0));
  for (vtkIdType j = 1; j < cell->GetNumberOfPoints(); ++j)
    if (field->GetTuple1(cell->GetPointId(j)) != value)
      return std::nan("");
  return value;
}

// Rank 0: one .pvtu through vtkXMLPUnstructuredGridReader against what the solver holds.
template <int dim>
void check_pvtu(const std::string &file, const unsigned long n_cells) {
  SCOPED_TRACE(file);
  ASSERT_TRUE(fs::exists(file));
  auto reader = vtkSmartPointer<vtkXMLPUnstructuredGridReader>::New();
  reader->SetFileName(file.c_str());
  reader->Update();
  vtkUnstructuredGrid *grid = reader->GetOutput();
  ASSERT_NE(grid, nullptr);
  ASSERT_EQ(static_cast<unsigned long>(grid->GetNumberOfCells()), n_cells);
  auto field = [&](const char *name) {
    vtkDataArray *on_cells = grid->GetCellData()->GetArray(name);
    return on_cells != nullptr ? on_cells : grid->GetPointData()->GetArray(name);
  };
  vtkDataArray *density = grid->GetPointData()->GetArray("density");
  vtkDataArray *velocity = grid->GetPointData()->GetArray("velocity");
  vtkDataArray *first_variation = field("first_variation"), *rank = field("mpi_rank");
  ASSERT_NE(density, nullptr);
  ASSERT_NE(velocity, nullptr);
  ASSERT_NE(first_variation, nullptr);
  ASSERT_NE(rank, nullptr);
  EXPECT_EQ(density->GetNumberOfComponents(), 1);
  EXPECT_EQ(velocity->GetNumberOfComponents(), 3);

  double mass = 0.0, max_speed = 0.0;
  std::set<double> ranks;
  for (vtkIdType c = 0; c < grid->GetNumberOfCells(); ++c) {
    vtkCell *cell = grid->GetCell(c);
    ASSERT_EQ(cell->GetNumberOfPoints(), 1 << dim);
    const double *bounds = cell->GetBounds(); // axis-aligned box: |K| = Π (max − min)
    double volume = 1.0;
    for (int i = 0; i < dim; ++i)
      volume *= bounds[2 * i + 1] - bounds[2 * i];
    EXPECT_GT(volume, 0.0);
    const double rho = cell_value(grid, density, c); // DG0: constant on the cell
    EXPECT_GE(rho, 0.0) << "cell " << c;
    mass += rho * volume;
    for (vtkIdType j = 0; j < cell->GetNumberOfPoints(); ++j)
      for (int i = 0; i < 3; ++i) {
        const double v = velocity->GetComponent(cell->GetPointId(j), i);
        EXPECT_TRUE(std::isfinite(v)) << "velocity on cell " << c;
        max_speed = std::max(max_speed, std::abs(v));
      }
    EXPECT_TRUE(std::isfinite(cell_value(grid, first_variation, c))) << "cell " << c;
    ranks.insert(cell_value(grid, rank, c));
  }
  // deal.II 9.4 writes Float32 (points and data): rounding leaves ~1e-9 of the mass of 1 that
  // the solver holds to 1e-12 in double (checked in check_output); a lost cell costs far more.
  EXPECT_NEAR(mass, 1.0, 1e-6);
  EXPECT_GT(max_speed, 0.0);
  std::set<double> all_ranks;
  for (unsigned int r = 0; r < dealii::Utilities::MPI::n_mpi_processes(comm); ++r)
    all_ranks.insert(r);
  EXPECT_EQ(ranks, all_ranks);
}

// Rank 0: the <DataSet timestep="…" file="…"/> entries of a .pvd file.
std::vector<std::pair<double, std::string>> read_pvd(const std::string &file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  auto attribute = [&](const std::size_t from, const std::string &name) {
    const std::size_t begin = s.find(name + "=\"", from) + name.size() + 2;
    return s.substr(begin, s.find('"', begin) - begin);
  };
  std::vector<std::pair<double, std::string>> entries;
  for (std::size_t at = s.find("<DataSet"); at != std::string::npos;
       at = s.find("<DataSet", at + 1))
    entries.emplace_back(std::stod(attribute(at, "timestep")), attribute(at, "file"));
  return entries;
}

// μ0 = the problem's default density; outputs at step 0 and after 2 and 4 CFL steps.
template <int dim>
void check_output(const std::string &prm_text) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(prm_text);
  const auto problem = create_problem(prm, comm);
  ASSERT_EQ(problem->dimension(), static_cast<unsigned int>(dim));
  PdeParameters pde;
  pde.parse_parameters(prm);
  pde.check_consistency(*problem);
  const InitialDensity<dim> mu0(*problem, "default", "");
  FiniteVolumeSolver<dim> solver(*problem, pde, comm);
  solver.set_initial_density([&](const dealii::Point<dim> &p) { return mu0.value(p); });

  const bool root = is_root();
  const std::string directory = temporary_directory();
  std::vector<std::pair<double, std::string>> records; // exactly as source/pde/driver.cc
  for (unsigned int k = 0; k < 3; ++k) {
    for (unsigned int s = 0; k > 0 && s < 2; ++s)
      ASSERT_GT(solver.step(1e9), 0.0);
    EXPECT_NEAR(solver.prepare_step().mass, 1.0, 1e-12);
    records.emplace_back(solver.time(), solver.write_vtu(directory, k));
    if (root) {
      std::ofstream pvd(directory + "/solution.pvd");
      dealii::DataOutBase::write_pvd_record(pvd, records);
    }
  }
  if (!root)
    return;

  for (const auto &record : records)
    check_pvtu<dim>(directory + "/" + record.second, solver.n_cells());
  const auto entries = read_pvd(directory + "/solution.pvd");
  ASSERT_EQ(entries.size(), 3u);
  for (unsigned int k = 0; k < 3; ++k) {
    // write_pvd_record prints 12 significant digits
    EXPECT_NEAR(entries[k].first, records[k].first, 1e-11 * std::abs(records[k].first));
    EXPECT_EQ(entries[k].second, records[k].second);
    EXPECT_TRUE(fs::exists(directory + "/" + entries[k].second)) << entries[k].second;
    if (k > 0) {
      EXPECT_GT(entries[k].first, entries[k - 1].first);
    }
  }
  if (::testing::Test::HasFailure())
    std::cerr << "Output kept in " << directory << '\n';
  else
    fs::remove_all(directory);
}
} // namespace

TEST(VtkOutput, SparseDeconvolution2D) {
  check_output<2>("subsection Mesh\n set Subdivisions = 8\n set Global refinements = 1\nend");
}

TEST(VtkOutput, PotentialDrift1D) {
  check_output<1>(
      "subsection Problem\n set Type = potential drift\n"
      " subsection Potential drift\n  set Stiffness = 1.5\n  set Center = 0\n end\nend");
}
