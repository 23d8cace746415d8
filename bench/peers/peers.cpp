// Shared parts of the peers: the query text, printing and cross-checking, temporary folders and
// child processes.
#include "peers/peers.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

namespace statgov::bench {

std::string county_growth_sql(int indicators) {
  const std::string accepted = std::to_string(static_cast<int>(cube::State::accepted));
  std::string q = "SELECT c.county";
  for (int k = 0; k < indicators; ++k) {
    // Appends only: g++ 12 warns (-Wrestrict, a false positive) on chains of string operator+.
    const std::string v = std::to_string(k);
    q.append(", SUM(CASE WHEN p.v").append(v).append(" IS NOT NULL THEN c.v").append(v);
    q.append(" END)");
    q.append(", SUM(CASE WHEN c.v").append(v).append(" IS NOT NULL THEN p.v").append(v);
    q.append(" END)");
  }
  q.append(" FROM obs c JOIN obs p ON p.period = 0 AND p.unit = c.unit AND p.state = ")
      .append(accepted)
      .append(" WHERE c.period = 1 AND c.state = ")
      .append(accepted)
      .append(" GROUP BY c.county ORDER BY c.county");
  return q;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print_peer(const PeerResult& r, double cube_ms, double cube_cpu_ms,
                const std::vector<cube::GrowthRow>& county) {
  if (!r.ran) {
    std::printf("(f) %s: not run: %s\n", r.name.c_str(), r.why_not.c_str());
    return;
  }
  const double q = median_of(r.query_ms);
  std::string runs;
  for (double t : r.query_ms) {
    if (!runs.empty()) runs += ", ";
    runs += std::to_string(static_cast<long>(std::lround(t)));
  }
  std::printf(
      "(f) %s %s (wide table, %zu county rows): load %.0f ms; query %.0f ms (median of "
      "%zu after a warm-up: %s)\n",
      r.name.c_str(), r.version.c_str(), r.county.size(), r.load_ms, q, r.query_ms.size(),
      runs.c_str());
  std::printf("    set-up: %s\n    load: %s\n", r.setup.c_str(), r.load_note.c_str());
  std::printf("    ratio %s county query / cube full recompute of all rollups (a): %.1fx",
              r.name.c_str(), q / cube_ms);
  if (!r.query_cpu_ms.empty()) {
    // On a shared machine wall time includes waiting for a core; CPU time does not.
    const double cpu = median_of(r.query_cpu_ms);
    std::printf(" (CPU time summed over threads and processes: %.0f ms, %.1fx the cube's)", cpu,
                cpu / cube_cpu_ms);
  }
  std::printf("\n");
  // The same measure as SQLite's cross-check: |peer - cube| / (|peer| + 1), counties by code.
  double max_rel = 0;
  std::size_t matched = 0;
  for (const PeerCounty& p : r.county) {
    auto it = std::find_if(county.begin(), county.end(),
                           [&](const cube::GrowthRow& g) { return g.key.county == p.county; });
    if (it == county.end() || it->current.empty()) continue;
    ++matched;
    max_rel =
        std::max(max_rel, std::fabs(p.current0 - it->current[0]) / (std::fabs(p.current0) + 1));
    max_rel =
        std::max(max_rel, std::fabs(p.previous0 - it->previous[0]) / (std::fabs(p.previous0) + 1));
  }
  const bool equal = matched == county.size() && matched == r.county.size() && max_rel < 1e-9;
  std::printf(
      "    cross-check vs cube county growth, indicator 0: %s (max relative difference %.1e; %zu "
      "of %zu counties matched)\n",
      equal ? "equal" : "DIFFERENT", max_rel, matched, county.size());
}

TempDir::TempDir(const char* prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data())) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec)
    std::fprintf(stderr, "cube_bench: could not remove %s: %s\n", path_.c_str(),
                 ec.message().c_str());
}

int run_command(const std::vector<std::string>& argv, const std::string& log,
                const std::string& cwd, std::string* out) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipe_fd[2] = {-1, -1};
  if (out && pipe(pipe_fd) != 0) return -1;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      if (!out) dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    if (out) {
      dup2(pipe_fd[1], STDOUT_FILENO);
      close(pipe_fd[0]);
      close(pipe_fd[1]);
    }
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (out) {
    close(pipe_fd[1]);
    char buf[65536];
    ssize_t n;
    while ((n = read(pipe_fd[0], buf, sizeof buf)) > 0)
      out->append(buf, static_cast<std::size_t>(n));
    close(pipe_fd[0]);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string tail_of(const std::string& path, int lines) {
  std::ifstream f(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(f, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string s;
  for (const std::string& l : last) s.append("\n    | ").append(l);
  return s;
}

}  // namespace statgov::bench
