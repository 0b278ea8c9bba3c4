#include <meanfield/app/parameter_file.h>
#include <meanfield/base/exceptions.h>

#include <deal.II/base/utilities.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace MeanField {
namespace {
namespace fs = std::filesystem;

// A line of a parameter file, as deal.II reads it: the comment (from '#') removed, trimmed, and
// runs of blanks in a name taken as one.
std::string normalized(const std::string &line) {
  std::string text = line.substr(0, line.find('#'));
  std::string out;
  bool blank = false;
  for (const char c : text) {
    const bool is_blank = c == ' ' || c == '\t' || c == '\r';
    if (is_blank)
      blank = !out.empty();
    else {
      if (blank)
        out += ' ';
      out += c;
      blank = false;
    }
  }
  return out;
}

bool starts_with_word(const std::string &line, const std::string &word) {
  return line.size() > word.size() && line.compare(0, word.size(), word) == 0 &&
         line[word.size()] == ' ';
}

// The statements of one file and of the files it includes, in order.
class Scanner {
public:
  void scan(const std::string &file, std::vector<std::string> &chain) {
    const fs::path path(file);
    std::error_code code;
    require(fs::exists(path, code), "Cannot open the parameter file <" + file + ">.");
    require(!fs::is_directory(path, code),
            "The parameter file <" + file + "> is a directory, not a file.");
    std::ifstream in(file);
    require(in.good(), "Cannot open the parameter file <" + file + ">.");
    const std::string canonical = fs::weakly_canonical(path, code).string();
    for (const std::string &open : chain)
      require(open != canonical, "The parameter file <" + file + "> includes itself (" +
                                     include_chain(names) + " -> " + file + ").");
    chain.push_back(canonical);
    names.push_back(file);
    std::string line, statement;
    for (unsigned int number = 1; std::getline(in, line); ++number) {
      // a trailing backslash continues the statement on the next line
      statement += line;
      if (!statement.empty() && statement.back() == '\\') {
        statement.pop_back();
        continue;
      }
      process(normalized(statement), file, number, chain);
      statement.clear();
    }
    chain.pop_back();
    names.pop_back();
  }

  unsigned int n_entries() const { return entries; }

private:
  std::vector<std::string> subsections;
  std::vector<std::string> names; ///< the include chain as written (chain: canonical paths)
  std::map<std::string, std::string> first_setting; ///< "A/B/Key" → "file:line"
  unsigned int entries = 0;

  void include(const std::string &file, const std::string &where, std::vector<std::string> &chain) {
    std::error_code code;
    require(fs::is_regular_file(file, code),
            where + ": cannot open the included file <" + file +
                "> (an include path is relative to the working directory, " +
                fs::current_path(code).string() + ").");
    scan(file, chain);
  }

  static std::string include_chain(const std::vector<std::string> &chain) {
    std::string text;
    for (const std::string &file : chain)
      text += (text.empty() ? "" : " -> ") + file;
    return text;
  }

  void process(const std::string &line, const std::string &file, const unsigned int number,
               std::vector<std::string> &chain) {
    const std::string where = file + ":" + std::to_string(number);
    if (starts_with_word(line, "subsection"))
      subsections.push_back(line.substr(11));
    else if (line == "end") {
      if (!subsections.empty()) // an unbalanced end is deal.II's message to give
        subsections.pop_back();
    } else if (starts_with_word(line, "include"))
      include(dealii::Utilities::trim(line.substr(8)), where, chain);
    else if (starts_with_word(line, "set")) {
      const std::size_t equal = line.find('=');
      if (equal == std::string::npos)
        return; // malformed: deal.II names it
      std::string key;
      for (const std::string &name : subsections)
        key += name + "/";
      key += dealii::Utilities::trim(line.substr(4, equal - 4));
      const auto [previous, inserted] = first_setting.emplace(key, where);
      require(inserted, "The entry " + key + " is set twice: at " + previous->second + " and at " +
                            where + ". Keep one of them (deal.II would silently use the last).");
      ++entries;
    }
  }
};
} // namespace

void check_parameter_file(const std::string &file) {
  Scanner scanner;
  std::vector<std::string> chain;
  scanner.scan(file, chain);
  require(scanner.n_entries() > 0,
          "The parameter file <" + file +
              "> sets no parameter (it is empty or holds comments only). Every run is described "
              "by its file: start from `meanfield --help`, which prints every entry.");
}
} // namespace MeanField
