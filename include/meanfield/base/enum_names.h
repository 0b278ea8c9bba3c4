#pragma once

#include <meanfield/base/exceptions.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace MeanField {
/**
 * One value of an enum with its parameter-file spelling. A table `{{E::a, "a"}, {E::b, "b"}}` is
 * the one place the names of an enum are written: parse_enum() converts an entry's value to the
 * enum at the parser, enum_name() gives the spelling back for messages and output, and
 * enum_selection() the "a|b" of the entry's Selection pattern.
 */
template <typename Enum>
using EnumName = std::pair<Enum, const char *>;

/// "a|b|c": every name of @p names in order, for dealii::Patterns::Selection.
template <typename Enum, std::size_t n>
std::string enum_selection(const EnumName<Enum> (&names)[n]) {
  std::string list;
  for (const EnumName<Enum> &entry : names)
    list += (list.empty() ? "" : "|") + std::string(entry.second);
  return list;
}

/// The value named @p value in @p names; InputError naming @p entry ("Section/Key") otherwise.
template <typename Enum, std::size_t n>
Enum parse_enum(const std::string &entry, const std::string &value,
                const EnumName<Enum> (&names)[n]) {
  for (const auto &[e, name] : names)
    if (value == name)
      return e;
  throw InputError(entry + " = " + value + ": not one of " + enum_selection(names) + ".");
}

/// The spelling of @p value in @p names.
template <typename Enum, std::size_t n>
std::string enum_name(const EnumName<Enum> (&names)[n], const Enum value) {
  for (const auto &[e, name] : names)
    if (e == value)
      return name;
  throw std::logic_error("an enum value missing from its name table");
}
} // namespace MeanField
