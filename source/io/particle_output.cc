#include <meanfield/base/exceptions.h>
#include <meanfield/io/checked_file.h>
#include <meanfield/io/particle_output.h>

#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace MeanField {
namespace {
std::string numbered(const std::string &stem, const unsigned int index) {
  std::ostringstream name;
  name << stem << '_' << std::setw(5) << std::setfill('0') << index;
  return name.str();
}

vtkNew<vtkDoubleArray> make_array(const std::string &name, const unsigned int components,
                                  const std::vector<double> &values, const std::size_t n) {
  vtkNew<vtkDoubleArray> array;
  array->SetName(name.c_str());
  array->SetNumberOfComponents(static_cast<int>(components));
  array->SetNumberOfTuples(static_cast<vtkIdType>(n));
  for (std::size_t j = 0; j < n; ++j)
    for (unsigned int c = 0; c < components; ++c)
      array->SetComponent(static_cast<vtkIdType>(j), static_cast<int>(c),
                          values[j * components + c]);
  return array;
}
} // namespace

std::string write_particles_vtu(const std::string &directory, const unsigned int index,
                                const PointSet &positions, const std::vector<ParticleField> &fields,
                                MPI_Comm comm) {
  const std::size_t n = positions.size();
  const unsigned int d = positions.dim;
  for (const ParticleField &field : fields)
    if (field.values.size() != field.components * n)
      throw std::invalid_argument("write_particles_vtu: field " + field.name + " has " +
                                  std::to_string(field.values.size()) + " values for " +
                                  std::to_string(n) + " particles of " +
                                  std::to_string(field.components) + " components.");
  int rank = 0, n_ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &n_ranks);
  const std::string folder = directory + "/particles";
  if (rank == 0)
    std::filesystem::create_directories(folder);
  MPI_Barrier(comm);

  // The piece of this rank: one vertex cell per particle.
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(static_cast<vtkIdType>(n));
  for (std::size_t j = 0; j < n; ++j) {
    double p[3] = {0.0, 0.0, 0.0};
    for (unsigned int i = 0; i < std::min(d, 3u); ++i)
      p[i] = positions[j][i];
    points->SetPoint(static_cast<vtkIdType>(j), p);
  }
  vtkNew<vtkUnstructuredGrid> grid;
  grid->SetPoints(points);
  grid->Allocate(static_cast<vtkIdType>(n));
  for (std::size_t j = 0; j < n; ++j) {
    const vtkIdType id = static_cast<vtkIdType>(j);
    grid->InsertNextCell(VTK_VERTEX, 1, &id);
  }
  grid->GetPointData()->AddArray(make_array("theta", d, positions.coordinates, n));
  for (const ParticleField &field : fields)
    grid->GetPointData()->AddArray(make_array(field.name, field.components, field.values, n));

  const std::string stem = numbered("particles", index);
  const std::string piece = stem + "." + std::to_string(rank) + ".vtu";
  vtkNew<vtkXMLUnstructuredGridWriter> writer;
  writer->SetFileName((folder + "/" + piece).c_str());
  writer->SetInputData(grid);
  writer->SetDataModeToAppended();
  writer->SetCompressorTypeToZLib();
  writer->SetCompressionLevel(1);
  // VTK removes a piece it could not finish (a full disk)
  const std::string piece_error =
      writer->Write() ? "" : folder + "/" + piece + ": VTK could not write it (disk full?)";
  throw_if_any_failed(piece_error, "Could not write the particle output: ", comm);

  // The parallel record: the arrays, and one piece per rank.
  std::string error;
  if (rank == 0)
    error = write_file(folder + "/" + stem + ".pvtu", [&](std::ostream &record) {
      record << "<?xml version=\"1.0\"?>\n"
             << "<VTKFile type=\"PUnstructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
             << "  <PUnstructuredGrid GhostLevel=\"0\">\n    <PPointData>\n"
             << "      <PDataArray type=\"Float64\" Name=\"theta\" NumberOfComponents=\"" << d
             << "\"/>\n";
      for (const ParticleField &field : fields)
        record << "      <PDataArray type=\"Float64\" Name=\"" << field.name
               << "\" NumberOfComponents=\"" << field.components << "\"/>\n";
      record << "    </PPointData>\n    <PPoints>\n"
             << "      <PDataArray type=\"Float64\" NumberOfComponents=\"3\"/>\n"
             << "    </PPoints>\n";
      for (int r = 0; r < n_ranks; ++r)
        record << "    <Piece Source=\"" << stem << "." << r << ".vtu\"/>\n";
      record << "  </PUnstructuredGrid>\n</VTKFile>\n";
    });
  throw_if_any_failed(error, "Could not write the particle output: ", comm);
  return "particles/" + stem + ".pvtu";
}
} // namespace MeanField
