#include <meanfield/pde/matrix_values.h>

#include <deal.II/base/exceptions.h>

#include <algorithm>

namespace MeanField {
namespace {
// The rank's blocks: the matrix itself (SEQAIJ), or MPIAIJ's diagonal and off-diagonal blocks
// with the global columns of the latter.
struct Blocks {
  Mat diagonal = nullptr, off_diagonal = nullptr;
  const PetscInt *off_columns = nullptr;
};
Blocks blocks_of(Mat matrix) {
  Blocks b;
  PetscBool mpi = PETSC_FALSE;
  PetscObjectTypeCompare(reinterpret_cast<PetscObject>(matrix), MATMPIAIJ, &mpi);
  if (mpi)
    MatMPIAIJGetSeqAIJ(matrix, &b.diagonal, &b.off_diagonal, &b.off_columns);
  else
    b.diagonal = matrix;
  return b;
}
// Row pointers and columns of a SEQAIJ block (valid until restore_structure).
struct Structure {
  PetscInt n = 0;
  const PetscInt *row_start = nullptr, *column = nullptr;
};
Structure structure_of(Mat block) {
  Structure s;
  PetscBool done = PETSC_FALSE;
  if (block)
    MatGetRowIJ(block, 0, PETSC_FALSE, PETSC_FALSE, &s.n, &s.row_start, &s.column, &done);
  return s;
}
void restore_structure(Mat block, Structure &s) {
  PetscBool done = PETSC_FALSE;
  if (block)
    MatRestoreRowIJ(block, 0, PETSC_FALSE, PETSC_FALSE, &s.n, &s.row_start, &s.column, &done);
}
} // namespace

std::vector<PetscInt> MatrixValues::locate(Mat matrix, const std::vector<PetscInt> &rows,
                                           const std::vector<PetscInt> &columns) {
  const Blocks b = blocks_of(matrix);
  PetscInt row_begin = 0, row_end = 0, column_begin = 0, column_end = 0;
  MatGetOwnershipRange(matrix, &row_begin, &row_end);
  MatGetOwnershipRangeColumn(matrix, &column_begin, &column_end);
  Structure d = structure_of(b.diagonal), o = structure_of(b.off_diagonal);
  const PetscInt n_diagonal = d.row_start[d.n];
  std::vector<PetscInt> places(rows.size(), -1);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const PetscInt r = rows[k] - row_begin, c = columns[k];
    AssertThrow(r >= 0 && rows[k] < row_end, dealii::ExcMessage("not an owned row"));
    if (c >= column_begin && c < column_end) {
      const PetscInt *begin = d.column + d.row_start[r], *end = d.column + d.row_start[r + 1];
      const PetscInt *at = std::find(begin, end, c - column_begin);
      if (at != end)
        places[k] = static_cast<PetscInt>(at - d.column);
    } else if (b.off_diagonal) {
      for (PetscInt j = o.row_start[r]; j < o.row_start[r + 1]; ++j)
        if (b.off_columns[o.column[j]] == c)
          places[k] = n_diagonal + j;
    }
    AssertThrow(places[k] >= 0, dealii::ExcMessage("an entry outside the sparsity pattern"));
  }
  restore_structure(b.diagonal, d);
  restore_structure(b.off_diagonal, o);
  return places;
}

MatrixValues::Writer::Writer(Mat matrix_)
    : matrix(matrix_) {
  const Blocks b = blocks_of(matrix);
  diagonal_block = b.diagonal;
  off_diagonal_block = b.off_diagonal;
  Structure d = structure_of(diagonal_block);
  n_diagonal = d.row_start[d.n];
  restore_structure(diagonal_block, d);
  MatSeqAIJGetArray(diagonal_block, &diagonal);
  std::fill(diagonal, diagonal + n_diagonal, 0.0);
  if (off_diagonal_block) {
    Structure o = structure_of(off_diagonal_block);
    const PetscInt n_off = o.row_start[o.n];
    restore_structure(off_diagonal_block, o);
    MatSeqAIJGetArray(off_diagonal_block, &off_diagonal);
    std::fill(off_diagonal, off_diagonal + n_off, 0.0);
  }
}

MatrixValues::Writer::~Writer() {
  MatSeqAIJRestoreArray(diagonal_block, &diagonal);
  if (off_diagonal_block)
    MatSeqAIJRestoreArray(off_diagonal_block, &off_diagonal);
  // (no stashed values: this only marks the matrix as changed, for the preconditioner)
  MatAssemblyBegin(matrix, MAT_FINAL_ASSEMBLY);
  MatAssemblyEnd(matrix, MAT_FINAL_ASSEMBLY);
}
} // namespace MeanField
