#pragma once

#include <stdexcept>
#include <string>

namespace MeanField {
/**
 * An error caused by the user's input (parameter file, command line, output
 * directory). `meanfield` reports its message and exits with a non-zero code
 * before any work is done; the message names the offending entry and, where
 * it helps, the corrected `.prm` lines.
 */
class InputError : public std::runtime_error {
public:
  explicit InputError(const std::string &message)
      : std::runtime_error(message) {}
};

/**
 * A failure during a run that is not a bug: a NaN, a blow-up, a negative
 * density. The message says where (step, time) and what to do about it.
 */
class RunError : public std::runtime_error {
public:
  explicit RunError(const std::string &message)
      : std::runtime_error(message) {}
};

/// Throw an InputError with @p message unless @p condition holds.
inline void require(const bool condition, const std::string &message) {
  if (!condition)
    throw InputError(message);
}
} // namespace MeanField
