#pragma once

#include <string>

namespace MeanField {
/**
 * What deal.II's ParameterHandler does not check in a parameter file, checked before it parses
 * it: the path is a readable regular file (not a directory), the file (with what it includes)
 * sets at least one entry, no `include` chain returns to a file already on it (a file that
 * includes itself would recurse until the stack overflows), and no entry is set twice in one
 * subsection (the last would win silently: both lines are named). Throws InputError.
 */
void check_parameter_file(const std::string &file);
} // namespace MeanField
