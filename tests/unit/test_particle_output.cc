// The particle VTK output read back with VTK's parallel XML reader: the number of points is the
// global number of particles, every field is there with its components, ids are exactly the
// global ids, and coordinates and "theta" match the particles (also on 2 ranks, and with a rank
// holding no particle).
#include <meanfield/io/particle_output.h>

#include <deal.II/base/mpi.h>

#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLPUnstructuredGridReader.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>

using namespace MeanField;

namespace {
// Particle j (global) of a test cloud in R^d: θ_i = j + i / 10.
double coordinate(const std::size_t j, const unsigned int i) {
  return static_cast<double>(j) + 0.1 * i;
}

// Rank 0's checks of the record written for `total` particles (ids 0 .. total - 1) in R^d.
void check_record(const std::string &file, const unsigned int d, const std::size_t total) {
  vtkSmartPointer<vtkXMLPUnstructuredGridReader> reader =
      vtkSmartPointer<vtkXMLPUnstructuredGridReader>::New();
  reader->SetFileName(file.c_str());
  reader->Update();
  vtkUnstructuredGrid *grid = reader->GetOutput();
  ASSERT_EQ(static_cast<std::size_t>(grid->GetNumberOfPoints()), total);
  vtkPointData *data = grid->GetPointData();
  for (const auto &[name, components] :
       std::vector<std::pair<std::string, int>>{{"theta", static_cast<int>(d)},
                                                {"weight", 1},
                                                {"velocity", static_cast<int>(d)},
                                                {"id", 1}}) {
    vtkDataArray *array = data->GetArray(name.c_str());
    ASSERT_NE(array, nullptr) << name;
    EXPECT_EQ(array->GetNumberOfComponents(), components) << name;
  }
  std::set<long> ids;
  for (vtkIdType p = 0; p < grid->GetNumberOfPoints(); ++p) {
    const long j = std::lround(data->GetArray("id")->GetComponent(p, 0));
    ids.insert(j);
    double x[3];
    grid->GetPoint(p, x);
    for (unsigned int i = 0; i < 3; ++i)
      EXPECT_EQ(x[i], i < d ? coordinate(j, i) : 0.0);
    for (unsigned int i = 0; i < d; ++i) {
      EXPECT_EQ(data->GetArray("theta")->GetComponent(p, i), coordinate(j, i));
      EXPECT_EQ(data->GetArray("velocity")->GetComponent(p, i), -coordinate(j, i));
    }
  }
  EXPECT_EQ(ids.size(), total);
  if (total > 0) {
    EXPECT_EQ(*ids.begin(), 0);
    EXPECT_EQ(*ids.rbegin(), static_cast<long>(total - 1));
  }
}

// Every rank writes its part of a test cloud; rank 0 reads the record back. With `empty_rank`
// the last rank holds no particle (with one rank: the only rank, so the cloud is empty).
void write_and_read_back(const unsigned int d, const bool empty_rank,
                         const MPI_Comm comm = MPI_COMM_WORLD) {
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm);
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  // rank r holds 5 + 3 r particles (none on the last rank if asked)
  const std::size_t count = (empty_rank && rank == n_ranks - 1) ? 0 : 5 + 3 * rank;
  std::size_t first = 0;
  for (unsigned int r = 0; r < rank; ++r)
    first += 5 + 3 * r;
  const std::size_t total =
      static_cast<std::size_t>(dealii::Utilities::MPI::sum(static_cast<double>(count), comm));

  PointSet points(d, count);
  ParticleField weight{"weight", 1, {}}, velocity{"velocity", d, {}}, id{"id", 1, {}};
  for (std::size_t j = 0; j < count; ++j) {
    for (unsigned int i = 0; i < d; ++i) {
      points[j][i] = coordinate(first + j, i);
      velocity.values.push_back(-coordinate(first + j, i));
    }
    weight.values.push_back(1.0 / static_cast<double>(total));
    id.values.push_back(static_cast<double>(first + j));
  }
  const std::string directory =
      std::filesystem::temp_directory_path().string() + "/meanfield_particle_output_" +
      std::to_string(dealii::Utilities::MPI::broadcast(comm, static_cast<int>(getpid()), 0)) + "_" +
      std::to_string(d);
  const std::string record =
      write_particles_vtu(directory, 3, points, {weight, velocity, id}, comm);
  EXPECT_EQ(record, "particles/particles_00003.pvtu");

  // checks in a function: a failed ASSERT still reaches the cleanup and the barrier
  if (rank == 0) {
    check_record(directory + "/" + record, d, total);
    std::filesystem::remove_all(directory);
  }
  MPI_Barrier(comm);
}
} // namespace

TEST(ParticleOutput, ReadBackInTwoDimensions) {
  write_and_read_back(2, false);
}

TEST(ParticleOutput, ReadBackInHighDimensionWithAnEmptyRank) {
  write_and_read_back(5, true);
}

TEST(ParticleOutput, ReadBackAnEmptyCloud) {
  // a rank alone with no particle still writes a valid piece and record
  write_and_read_back(3, true, MPI_COMM_SELF);
}

TEST(ParticleOutput, WrongFieldSizeThrows) {
  PointSet points(2, 3);
  EXPECT_THROW(write_particles_vtu("/tmp", 0, points, {{"weight", 1, {1.0, 2.0}}}, MPI_COMM_SELF),
               std::invalid_argument);
}
