#pragma once

#include <petscmat.h>

#include <vector>

namespace MeanField {
/**
 * Direct access to the values of an assembled PETSc AIJ matrix (SEQAIJ, or the diagonal and
 * off-diagonal blocks of MPIAIJ) for re-filling a fixed sparsity pattern: locate() finds, once,
 * the place of each (row, column) entry in the rank's value arrays, and a Writer then writes
 * values[place] with no MatSetValues call per row (about 100 ns each). Only owned rows.
 */
class MatrixValues {
public:
  /// The places of the entries (rows[k], columns[k]) (global indices, owned rows, entries of
  /// the pattern; a missing entry is an internal error).
  static std::vector<PetscInt> locate(Mat matrix, const std::vector<PetscInt> &rows,
                                      const std::vector<PetscInt> &columns);

  /// The rank's values, zeroed on construction; on destruction the matrix is assembled again
  /// (nothing to communicate), so that a KSP sets up its preconditioner again.
  class Writer {
  public:
    explicit Writer(Mat matrix);
    ~Writer();
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;
    double &operator[](const PetscInt place) {
      return place < n_diagonal ? diagonal[place] : off_diagonal[place - n_diagonal];
    }

  private:
    Mat matrix, diagonal_block, off_diagonal_block = nullptr;
    PetscScalar *diagonal = nullptr, *off_diagonal = nullptr;
    PetscInt n_diagonal = 0;
  };
};
} // namespace MeanField
